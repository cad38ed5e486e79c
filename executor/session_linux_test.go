//go:build linux

package executor

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// On Linux a console-user script is started directly with the user's
// credentials, as before: no launchctl, no drop program.
func TestUserCommandLinuxUnchanged(t *testing.T) {
	argv := []string{"/bin/sh", "/tmp/run/script", "x"}
	got, attr, err := userCommand(argv, &User{UID: 501, GID: 20, Groups: []uint32{20, 12}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, argv) || !attr.Setpgid || attr.Credential == nil ||
		attr.Credential.Uid != 501 || attr.Credential.Gid != 20 || !slices.Equal(attr.Credential.Groups, []uint32{20, 12}) {
		t.Errorf("argv %q attr %+v cred %+v", got, attr, attr.Credential)
	}
	got, attr, err = userCommand(argv, nil)
	if err != nil || !slices.Equal(got, argv) || !attr.Setpgid || attr.Credential != nil {
		t.Errorf("as root: argv %q attr %+v err %v", got, attr, err)
	}
}

func requireRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("dropping to another user needs root")
	}
}

// TestDropModeBecomesUser runs this test binary in dropMode, as launchctl
// asuser would exec the agent.
func TestDropModeBecomesUser(t *testing.T) {
	requireRoot(t)
	cmd := exec.Command(os.Args[0], dropMode, "65534", "65534", "65534,100", "--", "/bin/sh", "-c", `id -u; id -g; id -G; echo "$MAW_X"`)
	cmd.Env = []string{"MAW_X=kept"}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if want := "65534\n65534\n65534 100\nkept\n"; string(out) != want {
		t.Errorf("output %q, want %q", out, want)
	}
}

// fakeLaunchctl stands in for /bin/launchctl asuser: it checks its first
// two arguments and execs the rest in place, as the real one does once it
// has joined the user's bootstrap namespace.
func fakeLaunchctl(t *testing.T, uid string) string {
	p := filepath.Join(t.TempDir(), "launchctl")
	script := "#!/bin/sh\n[ \"$1\" = asuser ] && [ \"$2\" = " + uid + " ] || exit 99\nshift 2\nexec \"$@\"\n"
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRunInSessionKeepsGuarantees runs scripts the macOS way, through
// launchctl asuser and the drop, and checks identity, environment, the time
// limit and that the whole tree is gone after a timeout.
func TestRunInSessionKeepsGuarantees(t *testing.T) {
	requireRoot(t)
	requireSetsid(t)
	launchctl := fakeLaunchctl(t, "65534")
	runAsCommand = func(argv []string, u *User) ([]string, *syscall.SysProcAttr, error) {
		if u == nil {
			return argv, sysProcAttr(nil), nil
		}
		return sessionArgv(launchctl, os.Args[0], u, argv), sysProcAttr(nil), nil
	}
	t.Cleanup(func() { runAsCommand = userCommand })
	parent, u := nobody(t)

	t.Run("identity and environment", func(t *testing.T) {
		res := run(t, Request{
			Script:  []byte(`id -u; id -G; echo "$HOME $USER $1"; touch written && echo can-write`),
			Args:    []string{"a; reboot"},
			RunAs:   u,
			TempDir: parent,
		})
		want := "65534\n65534\n/nonexistent nobody a; reboot\ncan-write\n"
		if res.Status != Succeeded || res.Stdout != want {
			t.Fatalf("status %s stdout %q (want %q) stderr %q error %q", res.Status, res.Stdout, want, res.Stderr, res.Error)
		}
	})

	t.Run("timeout kills the tree", func(t *testing.T) {
		a, b := uniqueSleep(), uniqueSleep()
		t.Cleanup(func() { killMatching(t, a); killMatching(t, b) })
		res := run(t, Request{
			Script:    []byte("setsid sleep " + a + " & sleep " + b + "; wait"),
			RunAs:     u,
			TempDir:   parent,
			Timeout:   300 * time.Millisecond,
			KillGrace: time.Second,
		})
		if res.Status != TimedOut || !strings.Contains(res.Error, "timed out after") {
			t.Fatalf("status %s error %q stderr %q", res.Status, res.Error, res.Stderr)
		}
		for _, m := range []string{a, b} {
			if pids := liveMatching(t, m); len(pids) != 0 {
				t.Errorf("sleep %s still running: %v", m, pids)
			}
		}
	})

	t.Run("output cap", func(t *testing.T) {
		res := run(t, Request{Script: []byte("yes x | head -c 100000"), RunAs: u, TempDir: parent, MaxOutput: 64})
		if res.Status != Succeeded || !res.Truncated || res.StdoutBytes != 100000 || len(res.Stdout) > 200 {
			t.Errorf("status %s truncated %v bytes %d kept %d", res.Status, res.Truncated, res.StdoutBytes, len(res.Stdout))
		}
	})
}

// TestDropModeClosesDescriptors hands the drop program a descriptor, as a
// launchctl that leaked one would: the script must not get it.
func TestDropModeClosesDescriptors(t *testing.T) {
	requireRoot(t)
	secret := filepath.Join(t.TempDir(), "device.key")
	if err := os.WriteFile(secret, []byte("PRIVATE KEY"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(secret)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(os.Args[0], dropMode, "65534", "65534", "65534", "--", "/bin/ls", "-l", "/proc/self/fd/")
	cmd.ExtraFiles = []*os.File{f} // fd 3 in the drop program
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if strings.Contains(string(out), secret) || !strings.Contains(string(out), " 2 -> ") {
		t.Errorf("descriptors of the script:\n%s", out)
	}
}
