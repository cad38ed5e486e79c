package launchd

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/micromdm/plist"
)

func TestUpgradeJobParsesBack(t *testing.T) {
	b, err := Marshal(Upgrade("/p/My Agent.pkg", "/p/job.plist"))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := plist.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"Label":               "com.mobileatwork.agent.upgrade",
		"ProgramArguments":    []any{"/bin/sh", "-c", upgradeScript, "mobileatwork-upgrade", "/p/My Agent.pkg", "/p/job.plist"},
		"RunAtLoad":           true,
		"StandardOutPath":     "/Library/Logs/MobileAtWork/upgrade.log",
		"StandardErrorPath":   "/Library/Logs/MobileAtWork/upgrade.log",
		"AbandonProcessGroup": true,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parsed back\n%#v\nwant\n%#v", got, want)
	}
	if _, ok := got["KeepAlive"]; ok {
		t.Error("a one-shot job must not be kept alive")
	}
}

// TestUpgradeScript runs the job's script with stand-ins for installer and
// launchctl, on paths a shell would misread if they were spliced in.
func TestUpgradeScript(t *testing.T) {
	dir := t.TempDir()
	fake := filepath.Join(dir, "bin")
	if err := os.Mkdir(fake, 0o755); err != nil {
		t.Fatal(err)
	}
	// The fake launchctl finds no daemon loaded: a failed install leaves
	// it booted out.
	for name, rc := range map[string]string{"installer": "3", "launchctl": `"$([ "$1" = print ] && echo 113 || echo 0)"`} {
		body := "#!/bin/sh\necho \"$*\" >> \"$FAKE_LOG/" + name + "\"\nexit " + rc + "\n"
		if err := os.WriteFile(filepath.Join(fake, name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	script := upgradeScript
	for old, n := range map[string]int{"/usr/sbin/installer ": 1, "/bin/launchctl ": 3} {
		if c := strings.Count(script, old); c != n {
			t.Fatalf("script has %d of %q, want %d", c, old, n)
		}
		script = strings.ReplaceAll(script, old, filepath.Join(fake, filepath.Base(strings.TrimSpace(old)))+" ")
	}
	pkg := filepath.Join(dir, `a "b" $(touch pwned).pkg`)
	job := filepath.Join(dir, "job; touch pwned.plist")
	for _, f := range []string{pkg, job} {
		if err := os.WriteFile(f, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("/bin/sh", "-c", script, "mobileatwork-upgrade", pkg, job)
	cmd.Dir, cmd.Env = dir, []string{"FAKE_LOG=" + dir, "PATH=/usr/bin:/bin"}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("script: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "installer exited 3") {
		t.Errorf("output does not report the installer's status:\n%s", out)
	}
	for name, want := range map[string]string{
		"installer": "-pkg " + pkg + " -target /\n",
		"launchctl": "print system/com.mobileatwork.agent\n" +
			"bootstrap system /Library/LaunchDaemons/com.mobileatwork.agent.plist\n" +
			"remove com.mobileatwork.agent.upgrade\n",
	} {
		if b, _ := os.ReadFile(filepath.Join(dir, name)); string(b) != want {
			t.Errorf("%s called with %q, want %q", name, b, want)
		}
	}
	for _, f := range []string{pkg, job, filepath.Join(dir, "pwned")} {
		if _, err := os.Lstat(f); !os.IsNotExist(err) {
			t.Errorf("%s still there (%v)", f, err)
		}
	}
	if sc, err := exec.LookPath("shellcheck"); err == nil {
		lint := exec.Command(sc, "-s", "sh", "-")
		lint.Stdin = strings.NewReader(upgradeScript)
		if out, err := lint.CombinedOutput(); err != nil {
			t.Errorf("shellcheck: %v\n%s", err, out)
		}
	}
}
