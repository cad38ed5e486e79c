package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mobileatwork/mobileatwork/agent"
	"github.com/mobileatwork/mobileatwork/agent/uninstall"
	"github.com/mobileatwork/mobileatwork/executor"
	"github.com/mobileatwork/mobileatwork/internal/cli"
)

// execute runs the agent CLI in process, prepared as cli.Main prepares it.
func execute(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	root := newRoot()
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetArgs(args)
	cli.Prepare(root)
	err := root.Execute()
	return out.String(), errb.String(), err
}

// runMain runs the agent CLI in process as main does, up to the exit code.
func runMain(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	root := newRoot()
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetArgs(args)
	code = cli.Run(root)
	return code, out.String(), errb.String()
}

// The postinstall decides whether to enroll by grepping `status --json`;
// the pattern it uses must match what status prints for an enrolled agent.
func TestStatusJSONMatchesPostinstall(t *testing.T) {
	script, err := os.ReadFile("../../packaging/scripts/postinstall")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`status --json .*grep -q '([^']+)'`).FindSubmatch(script)
	if m == nil {
		t.Fatal("postinstall no longer greps status --json; update this test with it")
	}
	pattern := regexp.MustCompile(string(m[1]))
	for _, enrolled := range []bool{true, false} {
		var b bytes.Buffer
		if err := cli.JSON(&b, agent.Status{Enrolled: enrolled, DeviceID: "dev_1"}); err != nil {
			t.Fatal(err)
		}
		if got := pattern.Match(b.Bytes()); got != enrolled {
			t.Errorf("enrolled=%v: postinstall pattern %q matches = %v in\n%s", enrolled, pattern, got, b.String())
		}
	}
}

func TestServiceRefusesUnknownAction(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"service", "enable"}, "want one of install, uninstall, start, stop, restart, status"},
		{[]string{"service"}, "takes 1 argument"},
		{[]string{"service", "start", "now"}, "takes 1 argument"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, _, err := execute(t, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestUninstallCommandOnTestRoot(t *testing.T) {
	root := t.TempDir()
	l := uninstall.DefaultLayout()
	for _, f := range []string{l.Binary, l.JobFiles[0], filepath.Join(l.StateDir, "status.json"), filepath.Join(l.LogDir, "agent.log"), "/Applications/Kept.app/Contents/Info.plist"} {
		p := filepath.Join(root, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(root, filepath.Dir(l.Symlink)), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(l.Binary, filepath.Join(root, l.Symlink)); err != nil {
		t.Fatal(err)
	}
	managedJSON := `{"version": 1, "apps": [{"path": "/Applications/Kept.app", "installed_at": "2026-01-01T00:00:00Z"}]}`
	if err := os.WriteFile(filepath.Join(root, l.StateDir, "managed-apps.json"), []byte(managedJSON), 0o600); err != nil {
		t.Fatal(err)
	}
	flags := []string{"uninstall", "--root", root, "--state-dir", l.StateDir, "--json"}

	out, _, err := execute(t, append(flags, "--dry-run")...)
	if err != nil {
		t.Fatal(err)
	}
	var dry uninstall.Report
	if err := json.Unmarshal([]byte(out), &dry); err != nil {
		t.Fatalf("dry run JSON: %v\n%s", err, out)
	}
	if !dry.DryRun || len(dry.Results) != 5 {
		t.Fatalf("dry run lists %d actions, want 5 (job, link, binaries, state, logs):\n%s", len(dry.Results), out)
	}
	for _, r := range dry.Results {
		if _, err := os.Lstat(r.Path); err != nil {
			t.Errorf("dry run removed %s", r.Path)
		}
	}

	out, _, err = execute(t, flags...)
	if err != nil {
		t.Fatalf("uninstall: %v\n%s", err, out)
	}
	for _, r := range dry.Results {
		if _, err := os.Lstat(r.Path); err == nil {
			t.Errorf("%s still there", r.Path)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "Applications/Kept.app/Contents/Info.plist")); err != nil {
		t.Errorf("managed app removed without --remove-managed-apps: %v", err)
	}

	out, _, err = execute(t, "uninstall", "--root", root, "--state-dir", l.StateDir)
	if err != nil || !strings.Contains(out, "nothing of the agent is installed") {
		t.Fatalf("second uninstall: %v\n%s", err, out)
	}
}

// handOffRecorder is a service manager that records the hand-off.
type handOffRecorder struct {
	uninstall.Offline
	argv []string
}

func (r *handOffRecorder) HandOff(argv []string) (uninstall.HandOff, error) {
	r.argv = argv
	return uninstall.HandOff{}, nil
}

// An uninstall asked for by a script of the daemon is handed to the service
// manager and removes nothing itself: unloading the daemon would kill it.
func TestUninstallFromAgentScriptIsHandedOff(t *testing.T) {
	state := filepath.Join(t.TempDir(), "mobileatwork")
	if err := os.MkdirAll(state, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv(executor.RunTokenVar, "token")
	rec := &handOffRecorder{}
	handOffPlatform = func() uninstall.Platform { return rec }
	t.Cleanup(func() { handOffPlatform = uninstall.SystemPlatform })

	out, _, err := execute(t, "uninstall", "--state-dir", state, "--remove-managed-apps")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, uninstall.HandOffLabel) {
		t.Errorf("output %q does not name the hand-off job", out)
	}
	want := []string{"uninstall", "--state-dir", state, "--after", "15s", "--remove-managed-apps"}
	if len(rec.argv) < 1 || !filepath.IsAbs(rec.argv[0]) || strings.Join(rec.argv[1:], " ") != strings.Join(want, " ") {
		t.Errorf("hand-off argv %q, want <exe> %q", rec.argv, want)
	}
	if _, err := os.Stat(state); err != nil {
		t.Errorf("the script's own process removed the state: %v", err)
	}

	handOffPlatform = func() uninstall.Platform { return uninstall.Offline{} }
	if _, _, err := execute(t, "uninstall", "--state-dir", state); err == nil || !strings.Contains(err.Error(), "from a terminal") {
		t.Errorf("no service manager: %v, want advice to run it from a terminal", err)
	}
}

// Without --remove-managed-apps the tenant's configuration, as of the last
// verified check-in, decides whether uninstall removes the managed apps; an
// explicit choice wins, and the dry run shows the decision.
func TestUninstallManagedAppsDefault(t *testing.T) {
	l := uninstall.DefaultLayout()
	const app = "/Applications/Managed.app"
	tests := []struct {
		name    string
		payload string // checkin.json in the state dir; "" for none
		args    []string
		env     string // MAW_REMOVE_MANAGED_APPS
		remove  bool
	}{
		{name: "never checked in", remove: false},
		{name: "tenant keeps", payload: `{"config":{"remove_managed_apps":false}}`, remove: false},
		{name: "tenant removes", payload: `{"config":{"remove_managed_apps":true}}`, remove: true},
		{name: "flag false keeps", payload: `{"config":{"remove_managed_apps":true}}`, args: []string{"--remove-managed-apps=false"}, remove: false},
		{name: "env false keeps", payload: `{"config":{"remove_managed_apps":true}}`, env: "false", remove: false},
		{name: "flag removes", payload: `{"config":{}}`, args: []string{"--remove-managed-apps"}, remove: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.env != "" {
				t.Setenv("MAW_REMOVE_MANAGED_APPS", tt.env)
			}
			root := t.TempDir()
			files := map[string]string{
				filepath.Join(app, "Contents/Info.plist"):      "x",
				filepath.Join(l.StateDir, "managed-apps.json"): `{"version": 1, "apps": [{"path": "` + app + `", "installed_at": "2026-01-01T00:00:00Z"}]}`,
				filepath.Join(l.StateDir, "status.json"):       "{}",
				filepath.Join(l.StateDir, "checkin.json"):      tt.payload,
			}
			for f, body := range files {
				if body == "" {
					continue
				}
				p := filepath.Join(root, f)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			flags := append([]string{"uninstall", "--root", root, "--state-dir", l.StateDir, "--json"}, tt.args...)
			appPath := filepath.Join(root, app)

			out, _, err := execute(t, append(flags, "--dry-run")...)
			if err != nil {
				t.Fatal(err)
			}
			var dry uninstall.Report
			if err := json.Unmarshal([]byte(out), &dry); err != nil {
				t.Fatalf("dry run JSON: %v\n%s", err, out)
			}
			planned, kept := false, false
			for _, r := range dry.Results {
				planned = planned || r.Path == appPath
			}
			for _, k := range dry.Kept {
				kept = kept || k.Path == appPath
			}
			if planned != tt.remove || kept == tt.remove {
				t.Fatalf("dry run: app removal planned %v, kept %v; want removed %v\n%s", planned, kept, tt.remove, out)
			}

			if _, _, err := execute(t, flags...); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(appPath); (err == nil) == tt.remove {
				t.Errorf("after uninstall the app is there: %v, want removed %v", err == nil, tt.remove)
			}
		})
	}
}

// The hand-off passes an explicit choice on, and none when the tenant's
// configuration is to decide.
func TestUninstallHandOffPassesManagedAppsChoice(t *testing.T) {
	state := filepath.Join(t.TempDir(), "mobileatwork")
	if err := os.MkdirAll(state, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv(executor.RunTokenVar, "token")
	rec := &handOffRecorder{}
	handOffPlatform = func() uninstall.Platform { return rec }
	t.Cleanup(func() { handOffPlatform = uninstall.SystemPlatform })
	tests := []struct {
		flag, want string // want: the last argument handed off
	}{
		{"", "15s"},
		{"--remove-managed-apps", "--remove-managed-apps"},
		{"--remove-managed-apps=false", "--remove-managed-apps=false"},
	}
	for _, tt := range tests {
		t.Run(tt.flag, func(t *testing.T) {
			args := []string{"uninstall", "--state-dir", state}
			if tt.flag != "" {
				args = append(args, tt.flag)
			}
			if _, _, err := execute(t, args...); err != nil {
				t.Fatal(err)
			}
			if len(rec.argv) == 0 || rec.argv[len(rec.argv)-1] != tt.want {
				t.Errorf("hand-off argv %q, want it to end with %q", rec.argv, tt.want)
			}
		})
	}
}
