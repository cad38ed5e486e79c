package packaging

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPostinstallUpgradeKeepsState installs the catalog package (no
// enrollment file, nothing next to it) over an enrolled agent, as the
// self-upgrade does: the state directory is kept as it was, the agent does
// not enroll again, and the daemon is restarted.
func TestPostinstallUpgradeKeepsState(t *testing.T) {
	s := newSandbox(t)
	state := filepath.Join(s.root, "Library/Application Support/MobileAtWork")
	files := map[string]string{
		"device.key":                   "KEY",
		"identity.json":                `{"device_id":"dev_1"}`,
		"ledger/0001.json":             `{"run":"r1"}`,
		"outbox/0001.json":             `{"result":"queued"}`,
		"upgrade/MobileAtWork.pkg":     "xar!",
		"catalog.json":                 `{"apps":[]}`,
		"downloads/partial.pkg.tmp123": "x",
	}
	for name, body := range files {
		p := filepath.Join(state, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		s.write(p, body, 0o600)
	}
	out, err := s.run(filepath.Join(filepath.Dir(s.root), "media", "MobileAtWork.pkg"), `FAKE_STATUS={"enrolled": true}`)
	if err != nil {
		t.Fatalf("postinstall: %v\n%s", err, out)
	}
	if !strings.Contains(out, "already enrolled") {
		t.Errorf("output does not say the Mac is enrolled:\n%s", out)
	}
	if got := s.log("agent"); got != "" {
		t.Errorf("the agent was called to enroll again:\n%s", got)
	}
	for name, body := range files {
		p := filepath.Join(state, name)
		b, err := os.ReadFile(p)
		st, serr := os.Stat(p)
		if err != nil || serr != nil || string(b) != body || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %q %v %v, want %q kept 0600", name, b, err, serr, body)
		}
	}
	entries, _ := os.ReadDir(state)
	if len(entries) != 7 {
		t.Errorf("state directory has %d entries, want the 7 there before", len(entries))
	}
	calls := strings.ReplaceAll(s.log("launchctl"), s.root, "ROOT")
	at := 0
	for _, w := range []string{"bootout system/com.mobileatwork.agent", "bootstrap system ROOT/Library/LaunchDaemons/com.mobileatwork.agent.plist", "kickstart -k system/com.mobileatwork.agent"} {
		i := strings.Index(calls[at:], w)
		if i < 0 {
			t.Fatalf("launchctl calls lack %q:\n%s", w, calls)
		}
		at += i + len(w)
	}
	// The preinstall only stops the jobs: it removes nothing.
	if strings.Contains(string(preinstallScript), "rm ") {
		t.Error("the preinstall removes files")
	}
	if strings.Contains(calls, "upgrade") {
		t.Errorf("the postinstall touched the upgrade job, which runs it:\n%s", calls)
	}
}
