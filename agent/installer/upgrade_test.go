package installer

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/micromdm/plist"

	"github.com/mobileatwork/mobileatwork/packaging/launchd"
)

// fakeLaunchctl records launchctl calls; print succeeds when a job is
// loaded, bootstrap fails with failBootstrap.
type fakeLaunchctl struct {
	calls         []string
	loaded        bool
	failBootstrap bool
}

func (f *fakeLaunchctl) run(_ context.Context, name string, args ...string) ([]byte, error) {
	f.calls = append(f.calls, name+" "+strings.Join(args, " "))
	switch args[0] {
	case "print":
		if !f.loaded {
			return []byte("Could not find service"), errors.New("exit status 113")
		}
	case "bootstrap":
		if f.failBootstrap {
			return []byte("Bootstrap failed: 5: Input/output error"), errors.New("exit status 5")
		}
	}
	return nil, nil
}

func TestLaunchdJobUpgrade(t *testing.T) {
	pkg := writePKG(t, "com.mobileatwork.agent", "1.5.0")
	want, _ := os.ReadFile(pkg)
	dir := filepath.Join(t.TempDir(), "state", "upgrade")
	f := &fakeLaunchctl{}
	var chowned []string
	j := LaunchdJob{Dir: dir, Run: f.run, Chown: func(name string) error { chowned = append(chowned, name); return nil }}
	if err := j.Upgrade(t.Context(), pkg); err != nil {
		t.Fatal(err)
	}
	moved, plistPath := filepath.Join(dir, "MobileAtWork.pkg"), filepath.Join(dir, "com.mobileatwork.agent.upgrade.plist")
	wantCalls := []string{
		"/bin/launchctl print system/com.mobileatwork.agent.upgrade",
		"/bin/launchctl bootstrap system " + plistPath,
	}
	if !reflect.DeepEqual(f.calls, wantCalls) {
		t.Errorf("launchctl calls\n%q\nwant\n%q", f.calls, wantCalls)
	}
	if got, err := os.ReadFile(moved); err != nil || string(got) != string(want) {
		t.Errorf("package not moved into the job's directory: %v", err)
	}
	if _, err := os.Stat(pkg); !os.IsNotExist(err) {
		t.Errorf("download still there: %v", err)
	}
	if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("job directory %v %v, want 0700", st, err)
	}
	st, err := os.Stat(plistPath)
	if err != nil || st.Mode().Perm() != 0o644 || !reflect.DeepEqual(chowned, []string{plistPath}) {
		t.Fatalf("plist %v %v chowned %q, want 0644 made root:wheel", st, err, chowned)
	}
	b, _ := os.ReadFile(plistPath)
	wantPlist, err := launchd.Marshal(launchd.Upgrade(moved, plistPath))
	if err != nil || string(b) != string(wantPlist) {
		t.Errorf("plist:\n%s\nwant\n%s", b, wantPlist)
	}
	var job map[string]any
	if err := plist.Unmarshal(b, &job); err != nil {
		t.Fatal(err)
	}
	if args := job["ProgramArguments"].([]any); args[len(args)-2] != moved || args[len(args)-1] != plistPath {
		t.Errorf("job arguments %q do not end with the package and the plist", args)
	}
}

func TestLaunchdJobUpgradeRefuses(t *testing.T) {
	for _, tc := range []struct {
		name  string
		f     *fakeLaunchctl
		chown error
		want  string
		moved bool // the download was taken (then removed)
	}{
		{"another upgrade runs", &fakeLaunchctl{loaded: true}, nil, "already running", false},
		{"bootstrap fails", &fakeLaunchctl{failBootstrap: true}, nil, "Input/output error", true},
		{"chown fails", &fakeLaunchctl{}, errors.New("operation not permitted"), "operation not permitted", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pkg := writePKG(t, "com.mobileatwork.agent", "1.5.0")
			dir := filepath.Join(t.TempDir(), "upgrade")
			j := LaunchdJob{Dir: dir, Run: tc.f.run, Chown: func(string) error { return tc.chown }}
			err := j.Upgrade(t.Context(), pkg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Upgrade = %v, want an error saying %q", err, tc.want)
			}
			if left, _ := os.ReadDir(dir); len(left) != 0 {
				t.Errorf("job files left: %v", left)
			}
			if _, err := os.Stat(pkg); (err == nil) == tc.moved {
				t.Errorf("download: %v, taken %v", err, tc.moved)
			}
			for _, c := range tc.f.calls {
				if strings.Contains(c, "bootout") || tc.f.loaded && strings.Contains(c, "bootstrap") {
					t.Errorf("unexpected %q", c)
				}
			}
		})
	}
}

func TestDirectUpgradeInstallsInPlace(t *testing.T) {
	root := t.TempDir()
	pkg := writePKG(t, "com.mobileatwork.agent", "1.5.0")
	if err := (Direct{Installer: Twin{Root: root}}).Upgrade(t.Context(), pkg); err != nil {
		t.Fatal(err)
	}
	log, err := ReadTwinLog(root)
	if err != nil || len(log) != 1 || log[0].PackageID != "com.mobileatwork.agent" || log[0].Version != "1.5.0" {
		t.Fatalf("twin log %+v %v", log, err)
	}
}
