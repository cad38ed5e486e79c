package service

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	kservice "github.com/kardianos/service"
	"github.com/micromdm/plist"

	"github.com/mobileatwork/mobileatwork/packaging/launchd"
)

func TestConfig(t *testing.T) {
	tests := []struct {
		name     string
		opt      Options
		wantArgs []string
		wantErr  bool
	}{
		{"defaults", Options{Executable: launchd.BinaryPath}, []string{"run"}, false},
		{"state dir and config passed on", Options{Executable: "/opt/maw/mobileatwork", StateDir: "/srv/maw state", ConfigFile: "/etc/maw.yaml"},
			[]string{"run", "--state-dir", "/srv/maw state", "--config", "/etc/maw.yaml"}, false},
		{"relative binary", Options{Executable: "bin/mobileatwork"}, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Config(tc.opt)
			if tc.wantErr {
				if err == nil {
					t.Fatal("want an error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Name != launchd.DaemonLabel || c.Executable != tc.opt.Executable || c.UserName != "" {
				t.Errorf("name %q executable %q user %q", c.Name, c.Executable, c.UserName)
			}
			if !slices.Equal(c.Arguments, tc.wantArgs) {
				t.Errorf("arguments %q, want %q", c.Arguments, tc.wantArgs)
			}
			for k, want := range map[string]any{"RunAtLoad": true, "KeepAlive": true, "Restart": "always", "LogOutput": true, "LogDirectory": defaultLogDir} {
				if c.Option[k] != want {
					t.Errorf("option %s = %v, want %v", k, c.Option[k], want)
				}
			}
		})
	}
	c, err := Config(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if self, _ := os.Executable(); c.Executable != self {
		t.Errorf("default executable %q, want this binary %q", c.Executable, self)
	}
}

func TestLaunchdPlistIsThePackagesJob(t *testing.T) {
	got, err := LaunchdPlist(launchd.BinaryPath, []string{"run"}, launchd.LogDir)
	if err != nil {
		t.Fatal(err)
	}
	want, err := launchd.Marshal(launchd.Daemon())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("service plist differs from the package's:\n%s\nwant:\n%s", got, want)
	}

	b, err := LaunchdPlist("/Users/ada/bin/mobile & work", []string{"run", "--state-dir", "/tmp/s"}, "/var/tmp/logs")
	if err != nil {
		t.Fatal(err)
	}
	var j map[string]any
	if err := plist.Unmarshal(b, &j); err != nil {
		t.Fatalf("not a plist: %v\n%s", err, b)
	}
	args, _ := j["ProgramArguments"].([]any)
	if len(args) != 4 || args[0] != "/Users/ada/bin/mobile & work" || args[1] != "run" || args[3] != "/tmp/s" {
		t.Errorf("ProgramArguments %v", args)
	}
	if j["Label"] != launchd.DaemonLabel || j["RunAtLoad"] != true || j["KeepAlive"] != true || j["UserName"] != nil {
		t.Errorf("job %v", j)
	}
	if j["StandardErrorPath"] != "/var/tmp/logs/agent.err.log" {
		t.Errorf("StandardErrorPath %v", j["StandardErrorPath"])
	}

	if _, err := LaunchdPlist("/Applications/{{Name}}/mobileatwork", []string{"run"}, launchd.LogDir); err == nil {
		t.Error("a path with {{ was accepted as template text")
	}
}

// fakeManager records calls; status is what Status answers.
type fakeManager struct {
	status    kservice.Status
	statusErr error
	opErr     error
	calls     []string
}

func (f *fakeManager) op(name string) error { f.calls = append(f.calls, name); return f.opErr }
func (f *fakeManager) Install() error       { return f.op("install") }
func (f *fakeManager) Uninstall() error     { return f.op("uninstall") }
func (f *fakeManager) Start() error         { return f.op("start") }
func (f *fakeManager) Stop() error          { return f.op("stop") }
func (f *fakeManager) Restart() error       { return f.op("restart") }
func (f *fakeManager) Platform() string     { return "fake-launchd" }
func (f *fakeManager) Status() (kservice.Status, error) {
	return f.status, f.statusErr
}

func TestControl(t *testing.T) {
	notInstalled := kservice.ErrNotInstalled
	boom := errors.New("launchctl: Input/output error")
	tests := []struct {
		name      string
		action    string
		euid      int
		m         fakeManager
		want      string
		wantErr   error
		wantCalls []string
	}{
		{"unknown action", "reload", 0, fakeManager{}, "", ErrUnknownAction, nil},
		{"status running, as a user", "status", 501, fakeManager{status: kservice.StatusRunning}, "running", nil, nil},
		{"status stopped", "status", 0, fakeManager{status: kservice.StatusStopped}, "stopped", nil, nil},
		{"status not installed", "status", 0, fakeManager{statusErr: notInstalled}, "not installed", nil, nil},
		{"status failure", "status", 0, fakeManager{statusErr: boom}, "", boom, nil},
		{"install as a user", "install", 501, fakeManager{statusErr: notInstalled}, "", ErrNotRoot, nil},
		{"install", "install", 0, fakeManager{statusErr: notInstalled}, "installed; start it with `mobileatwork service start`", nil, []string{"install"}},
		{"install over an installed one", "install", 0, fakeManager{status: kservice.StatusStopped}, "", ErrAlreadyInstalled, nil},
		{"install fails", "install", 0, fakeManager{statusErr: notInstalled, opErr: boom}, "", boom, []string{"install"}},
		{"uninstall", "uninstall", 0, fakeManager{status: kservice.StatusRunning}, "uninstalled", nil, []string{"uninstall"}},
		{"uninstall when absent", "uninstall", 0, fakeManager{statusErr: notInstalled}, "", ErrNotInstalled, nil},
		{"start", "start", 0, fakeManager{status: kservice.StatusStopped}, "started", nil, []string{"start"}},
		{"start when absent", "start", 0, fakeManager{statusErr: notInstalled}, "", ErrNotInstalled, nil},
		{"stop", "stop", 0, fakeManager{status: kservice.StatusRunning}, "stopped", nil, []string{"stop"}},
		{"stop as a user", "stop", 501, fakeManager{status: kservice.StatusRunning}, "", ErrNotRoot, nil},
		{"restart", "restart", 0, fakeManager{status: kservice.StatusRunning}, "restarted", nil, []string{"restart"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			logs := filepath.Join(t.TempDir(), "logs")
			m := tc.m
			got, err := Control(&m, tc.action, Options{LogDir: logs, Geteuid: func() int { return tc.euid }})
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if err != nil && (tc.wantErr == boom) != strings.Contains(err.Error(), "fake-launchd") {
				t.Errorf("error %q: the service manager is named only for its own failures", err)
			}
			if got != tc.want {
				t.Errorf("outcome %q, want %q", got, tc.want)
			}
			if !slices.Equal(m.calls, tc.wantCalls) {
				t.Errorf("calls %v, want %v", m.calls, tc.wantCalls)
			}
			_, statErr := os.Stat(logs)
			if created := statErr == nil; created != (tc.action == "install" && slices.Contains(m.calls, "install")) {
				t.Errorf("log directory created = %v", created)
			}
		})
	}
}

func TestControlUnknownActionSaysWhatToDo(t *testing.T) {
	_, err := Control(&fakeManager{}, "enable", Options{Geteuid: func() int { return 0 }})
	if err == nil || !strings.Contains(err.Error(), "install, uninstall, start, stop, restart, status") {
		t.Fatalf("err = %v, want the list of actions", err)
	}
}
