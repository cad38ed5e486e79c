//go:build linux

package executor

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// uniqueSleep returns a sleep duration no other process on the machine is
// likely to use, so the test can find its processes by command line.
func uniqueSleep() string {
	return fmt.Sprintf("%d.%06d", 3000+rand.IntN(5000), rand.IntN(1_000_000))
}

// liveMatching returns the running (non-zombie) processes with arg in argv.
func liveMatching(tb testing.TB, arg string) []int {
	tb.Helper()
	procs, err := systemProcesses.List()
	if err != nil {
		tb.Fatal(err)
	}
	return matching(procs, arg)
}

func matching(procs []process, arg string) []int {
	var out []int
	for _, p := range procs {
		if p.Zombie {
			continue
		}
		b, err := os.ReadFile("/proc/" + strconv.Itoa(p.PID) + "/cmdline")
		if err == nil && containsEntry(b, arg) {
			out = append(out, p.PID)
		}
	}
	return out
}

func killMatching(t testing.TB, arg string) {
	for _, pid := range liveMatching(t, arg) {
		syscall.Kill(pid, syscall.SIGKILL)
	}
}

func requireSetsid(t testing.TB) {
	if _, err := os.Stat("/usr/bin/setsid"); err != nil {
		if _, err := os.Stat("/bin/setsid"); err != nil {
			t.Skip("setsid(1) is not installed")
		}
	}
}

// TestTimeoutKillsTree runs trees of processes past their time limit and
// checks every process is gone when Run returns.
func TestTimeoutKillsTree(t *testing.T) {
	requireSetsid(t)
	tests := []struct {
		name      string
		script    func(a, b string) string
		grace     time.Duration
		wantNote  string
		minRun    time.Duration
		wantCode  int
		wantInOut string
	}{
		{
			name: "grandchildren in the group",
			script: func(a, b string) string {
				return "sleep " + a + " & sh -c 'sleep " + b + "' & wait"
			},
			grace: 2 * time.Second, wantNote: "stopped by SIGTERM", wantCode: 128 + 15,
		},
		{
			name: "child escaped with setsid",
			script: func(a, b string) string {
				return "setsid sleep " + a + " & sleep " + b + "; wait"
			},
			grace: 2 * time.Second, wantNote: "stopped by SIGTERM", wantCode: 128 + 15,
		},
		{
			// The intermediate shell exits at once: the sleep is re-parented
			// before any snapshot can see its parent.
			name: "double fork with setsid",
			script: func(a, b string) string {
				return "setsid sh -c 'sleep " + a + " > /dev/null 2>&1 &'; sleep " + b
			},
			grace: 2 * time.Second, wantNote: "stopped by SIGTERM", wantCode: 128 + 15,
		},
		{
			name: "SIGTERM trapped, killed after the grace",
			script: func(a, b string) string {
				return "trap 'echo got-term' TERM; sleep " + a + " & while :; do sleep 0.05; done"
			},
			grace: 300 * time.Millisecond, wantNote: "SIGKILL after 300ms grace", minRun: 300 * time.Millisecond,
			wantCode: 128 + 9, wantInOut: "got-term",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := uniqueSleep(), uniqueSleep()
			t.Cleanup(func() { killMatching(t, a); killMatching(t, b) })
			const limit = 300 * time.Millisecond
			begin := time.Now()
			res := run(t, Request{Script: []byte(tt.script(a, b)), Timeout: limit, KillGrace: tt.grace})
			took := time.Since(begin)
			if res.Status != TimedOut || res.ExitCode != tt.wantCode {
				t.Fatalf("status %s/%d, want %s/%d (error %q)", res.Status, res.ExitCode, TimedOut, tt.wantCode, res.Error)
			}
			if !strings.Contains(res.Error, "timed out after") || !strings.Contains(res.Error, tt.wantNote) {
				t.Errorf("note = %q, want %q", res.Error, tt.wantNote)
			}
			if took < limit+tt.minRun {
				t.Errorf("Run took %s, want at least %s", took, limit+tt.minRun)
			}
			if took > limit+tt.grace+5*time.Second { // generous: shared CI machines stall
				t.Errorf("Run took %s", took)
			}
			if !strings.Contains(res.Stdout, tt.wantInOut) {
				t.Errorf("stdout %q, want %q", res.Stdout, tt.wantInOut)
			}
			for _, marker := range []string{a, b} {
				if pids := liveMatching(t, marker); len(pids) != 0 {
					t.Errorf("sleep %s still running: %v", marker, pids)
				}
			}
		})
	}
}

// TestTimeoutFindsEscapeeByRunToken turns tree snapshots off, so a double
// fork that leaves no ppid link can only be found by the run token.
func TestTimeoutFindsEscapeeByRunToken(t *testing.T) {
	requireSetsid(t)
	saved := trackInterval
	trackInterval = time.Hour
	t.Cleanup(func() { trackInterval = saved })
	a := uniqueSleep()
	t.Cleanup(func() { killMatching(t, a) })
	res := run(t, Request{
		Script:    []byte("setsid sh -c 'sleep " + a + " > /dev/null 2>&1 &'; sleep 60"),
		Timeout:   200 * time.Millisecond,
		KillGrace: time.Second,
	})
	if res.Status != TimedOut {
		t.Fatalf("status %s: %s", res.Status, res.Error)
	}
	if pids := liveMatching(t, a); len(pids) != 0 {
		t.Errorf("escaped sleep %s still running: %v", a, pids)
	}
}

// TestBackgroundProcessHoldingOutput: a script that leaves a child with its
// stdout must not hold the run open, and on a normal exit the child is the
// script's business and keeps running.
func TestBackgroundProcessHoldingOutput(t *testing.T) {
	marker := uniqueSleep()
	t.Cleanup(func() { killMatching(t, marker) })
	begin := time.Now()
	res := run(t, Request{Script: []byte("sleep " + marker + " & echo launched")})
	took := time.Since(begin)
	if res.Status != Succeeded || res.Stdout != "launched\n" {
		t.Fatalf("status %s stdout %q error %q", res.Status, res.Stdout, res.Error)
	}
	if took > drainGrace+5*time.Second {
		t.Errorf("Run took %s", took)
	}
	if !strings.Contains(res.Error, "kept stdout/stderr open") {
		t.Errorf("note = %q", res.Error)
	}
	if n := len(liveMatching(t, marker)); n != 1 {
		t.Errorf("%d background processes alive after a normal exit, want 1", n)
	}
}

// nobody returns the account nobody and a parent for run dirs that it can
// reach (t.TempDir's parent is private to root).
func nobody(t *testing.T) (string, *User) {
	t.Helper()
	parent, err := os.MkdirTemp("", "maw-runas-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(parent) })
	if err := os.Chmod(parent, 0o711); err != nil {
		t.Fatal(err)
	}
	return parent, &User{UID: 65534, GID: 65534, Groups: []uint32{65534}, Name: "nobody", Home: "/nonexistent"}
}

// TestRunAs drops to another account; only root can do that.
func TestRunAs(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("running as another user needs root")
	}
	parent, u := nobody(t)
	res := run(t, Request{
		Script:  []byte(`id -u; id -g; id -G; echo "$HOME $USER $LOGNAME"; touch written && echo can-write`),
		RunAs:   u,
		TempDir: parent,
	})
	want := "65534\n65534\n65534\n/nonexistent nobody nobody\ncan-write\n"
	if res.Status != Succeeded || res.Stdout != want {
		t.Fatalf("status %s stdout %q (want %q) stderr %q error %q", res.Status, res.Stdout, want, res.Stderr, res.Error)
	}
}

func TestConsoleUserLinux(t *testing.T) {
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	t.Run("from environment", func(t *testing.T) {
		t.Setenv(consoleUserEnv, me.Username)
		u, err := ConsoleUser()
		if err != nil {
			t.Fatal(err)
		}
		if strconv.FormatUint(uint64(u.UID), 10) != me.Uid || strconv.FormatUint(uint64(u.GID), 10) != me.Gid ||
			u.Name != me.Username || u.Home != me.HomeDir || len(u.Groups) == 0 {
			t.Errorf("ConsoleUser() = %+v, want %+v", u, me)
		}
	})
	t.Run("nobody logged in", func(t *testing.T) {
		t.Setenv(consoleUserEnv, "")
		if _, err := ConsoleUser(); !errors.Is(err, ErrNoConsoleUser) {
			t.Errorf("err = %v, want ErrNoConsoleUser", err)
		}
	})
	t.Run("unknown account", func(t *testing.T) {
		t.Setenv(consoleUserEnv, "maw-no-such-user-"+strconv.Itoa(rand.IntN(1e6)))
		_, err := ConsoleUser()
		if err == nil || errors.Is(err, ErrNoConsoleUser) {
			t.Errorf("err = %v, want a lookup error", err)
		}
	})
}

func TestParseStat(t *testing.T) {
	tests := []struct {
		name string
		line string
		want process
		bad  bool
	}{
		{
			name: "plain",
			line: "42 (sleep) S 7 42 7 0 -1 4194304 90 0 0 0 0 0 0 0 20 0 1 0 123456 2269184 128\n",
			want: process{PID: 42, PPID: 7, PGID: 42, Start: 123456},
		},
		{
			name: "name with spaces and parentheses",
			line: "43 (a) b (c)) Z 1 40 7 0 -1 4194304 90 0 0 0 0 0 0 0 20 0 1 0 99 0 0",
			want: process{PID: 43, PPID: 1, PGID: 40, Start: 99, Zombie: true},
		},
		{name: "starttime is the last field", line: "45 (x) R 1 2 3 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 77\n", want: process{PID: 45, PPID: 1, PGID: 2, Start: 77}},
		{name: "truncated", line: "44 (x) S 1 2", bad: true},
		{name: "non-numeric ppid", line: "46 (x) S one 2 3 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 77", bad: true},
		{name: "garbage", line: "hello", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStat([]byte(tt.line))
			if (err != nil) != tt.bad {
				t.Fatalf("err = %v, bad = %v", err, tt.bad)
			}
			if !tt.bad && got != tt.want {
				t.Errorf("parseStat = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestProcfsSeesItself checks the real table against this test process.
func TestProcfsSeesItself(t *testing.T) {
	cmd := exec.Command("sleep", uniqueSleep())
	cmd.Env = []string{"MAW_PROBE=yes"}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	procs, err := systemProcesses.List()
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, p := range procs {
		if p.PID == cmd.Process.Pid {
			found = p.PPID == os.Getpid() && p.Start > 0
		}
	}
	if !found {
		t.Errorf("child %d with parent %d not in the table", cmd.Process.Pid, os.Getpid())
	}
	if !systemProcesses.HasEnv(cmd.Process.Pid, "MAW_PROBE=yes") || systemProcesses.HasEnv(cmd.Process.Pid, "MAW_PROBE=ye") {
		t.Error("HasEnv does not match whole entries")
	}
}

// TestUserRunDirCannotBeSwapped runs, as nobody, a script that tries to
// swap its run directory, or what it holds, for links to a directory of
// root's: the daemon must never delete there. Only a parent of root's that
// others may only traverse is accepted for a user's run.
func TestUserRunDirCannotBeSwapped(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("running as another user needs root")
	}
	safe, u := nobody(t)
	sticky, err := os.MkdirTemp("", "maw-sticky-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(sticky) })
	if err := os.Chmod(sticky, 0o777|os.ModeSticky); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		parent  string
		refused bool
	}{
		{name: "sticky world-writable parent, as /tmp", parent: sticky, refused: true},
		{name: "no parent given", parent: "", refused: true},
		{name: "root's parent that others only traverse", parent: safe},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			victim := t.TempDir()
			for _, f := range []string{"script", "keep"} {
				if err := os.WriteFile(filepath.Join(victim, f), []byte("root's"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			script := fmt.Sprintf(`d=$(pwd)
mv "$d" "$d.gone" 2>/dev/null && ln -s %[1]s "$d" && echo swapped && exit 0
echo cannot-rename
rm -f script; ln -s %[1]s script; ln -s %[1]s link; mkdir sub; ln -s %[1]s/keep sub/keep
echo ran
`, victim)
			req := Request{Script: []byte(script), RunAs: u, TempDir: tt.parent, Timeout: 10 * time.Second}
			res := Run(context.Background(), req)
			for _, f := range []string{"script", "keep"} {
				if _, err := os.Stat(filepath.Join(victim, f)); err != nil {
					t.Errorf("%s of root's is gone after the run (%s, %q): %v", f, res.Status, res.Stdout, err)
				}
			}
			if tt.refused {
				if res.Status != Error || !strings.Contains(res.Error, "unsafe run directory parent") || res.Stdout != "" {
					t.Fatalf("status %s stdout %q error %q: want the run refused before it starts", res.Status, res.Stdout, res.Error)
				}
				return
			}
			if res.Status != Succeeded || res.Stdout != "cannot-rename\nran\n" {
				t.Fatalf("status %s stdout %q stderr %q error %q", res.Status, res.Stdout, res.Stderr, res.Error)
			}
			if left, _ := os.ReadDir(tt.parent); len(left) != 0 {
				t.Errorf("run directory left behind: %v", left)
			}
		})
	}
}

// TestScriptInheritsNoDescriptors opens a file the way a careless library
// or the daemon's parent would, without O_CLOEXEC, and checks that neither
// a root nor a user script sees it: only 0-2 (and the script file its shell
// reads) may be open in the script.
func TestScriptInheritsNoDescriptors(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "device.key")
	if err := os.WriteFile(secret, []byte("PRIVATE KEY"), 0o600); err != nil {
		t.Fatal(err)
	}
	fd, err := syscall.Open(secret, syscall.O_RDONLY, 0) // no O_CLOEXEC
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	// The shell becomes ls, which lists what it holds: what the script
	// inherited, and the directory it reads.
	const script = "exec ls -l /proc/self/fd/\n"
	cases := []struct {
		name string
		req  Request
	}{{name: "root", req: Request{Script: []byte(script)}}}
	if os.Geteuid() == 0 {
		parent, u := nobody(t)
		cases = append(cases, struct {
			name string
			req  Request
		}{"console user", Request{Script: []byte(script), RunAs: u, TempDir: parent}})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := run(t, tc.req)
			if res.Status != Succeeded {
				t.Fatalf("status %s stderr %q error %q", res.Status, res.Stderr, res.Error)
			}
			std := 0
			for _, line := range strings.Split(strings.TrimSpace(res.Stdout), "\n") {
				f := strings.Fields(line)
				i := slices.Index(f, "->")
				if i < 1 || i == len(f)-1 {
					continue // "total 0"
				}
				num, target := f[i-1], f[i+1]
				switch {
				case num == "0" || num == "1" || num == "2":
					std++
				case strings.HasPrefix(target, "/proc/") && strings.HasSuffix(target, "/fd"):
					// the directory ls reads
				default:
					t.Errorf("descriptor %s (%s) reached the script", num, target)
				}
				if target == secret {
					t.Errorf("the script can read %s through descriptor %s", secret, num)
				}
			}
			if std != 3 {
				t.Fatalf("listed %d of stdin, stdout and stderr, want 3: %q", std, res.Stdout)
			}
		})
	}
}

// The daemon's own runs may use a sticky directory of someone else's, as
// /tmp is for an agent run by hand: its run directory stays its own there.
func TestOwnRunInStickyDirectory(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("handing the directory to another user needs root")
	}
	sticky, err := os.MkdirTemp("", "maw-sticky-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(sticky) })
	if err := os.Chmod(sticky, 0o777|os.ModeSticky); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(sticky, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if res := run(t, Request{Script: []byte("echo ok"), TempDir: sticky}); res.Status != Succeeded || res.Stdout != "ok\n" {
		t.Fatalf("status %s stdout %q error %q", res.Status, res.Stdout, res.Error)
	}
}
