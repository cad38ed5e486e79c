package executor

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// run executes script with a per-test run-dir parent and checks the run dir
// is gone afterwards, whatever the outcome.
func run(t *testing.T, req Request) Result {
	t.Helper()
	if req.TempDir == "" {
		req.TempDir = t.TempDir()
	}
	if req.Timeout == 0 {
		req.Timeout = 10 * time.Second
	}
	res := Run(context.Background(), req)
	left, err := os.ReadDir(req.TempDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Errorf("run dir left behind: %v", left)
	}
	if res.FinishedAt.Before(res.StartedAt) {
		t.Errorf("FinishedAt %v before StartedAt %v", res.FinishedAt, res.StartedAt)
	}
	return res
}

func TestRunOutcomes(t *testing.T) {
	tests := []struct {
		name       string
		req        Request
		wantStatus Status
		wantCode   int
		wantStdout string
		wantStderr string
		wantError  string // substring
	}{
		{
			name: "args and env reach the script",
			req: Request{
				Script: []byte(`printf '%s|%s|%s\n' "$1" "$2" "$MAW_INPUT_SERIAL"`),
				Args:   []string{"first", "second"},
				Env:    map[string]string{"MAW_INPUT_SERIAL": "C02XYZ"},
			},
			wantStatus: Succeeded, wantStdout: "first|second|C02XYZ\n",
		},
		{
			name:       "non-zero exit is a failure with its code",
			req:        Request{Script: []byte("echo oops >&2; exit 3")},
			wantStatus: Failed, wantCode: 3, wantStderr: "oops\n",
		},
		{
			name:       "killed by its own signal reports 128+signal",
			req:        Request{Script: []byte("kill -KILL $$")},
			wantStatus: Failed, wantCode: 137, wantError: "killed by signal 9",
		},
		{
			name:       "bash shebang is honoured",
			req:        Request{Script: []byte("#!/bin/bash\n[[ -n $BASH_VERSION ]] && echo bash \"$#\""), Args: []string{"a", "b"}},
			wantStatus: Succeeded, wantStdout: "bash 2\n",
		},
		{
			name:       "script without shebang runs with /bin/sh and its path as $0",
			req:        Request{Script: []byte(`basename "$0"`)},
			wantStatus: Succeeded, wantStdout: "script\n",
		},
		{
			name:       "missing interpreter is an error",
			req:        Request{Script: []byte("#!/nonexistent/interpreter\necho hi\n")},
			wantStatus: Error, wantCode: -1, wantError: `interpreter "/nonexistent/interpreter"`,
		},
		{
			name:       "CRLF shebang is explained",
			req:        Request{Script: []byte("#!/bin/sh\r\necho hi\r\n")},
			wantStatus: Error, wantCode: -1, wantError: "carriage return",
		},
		{
			name:       "lower-case env key is refused",
			req:        Request{Script: []byte("true"), Env: map[string]string{"maw_input": "x"}},
			wantStatus: Error, wantCode: -1, wantError: errInvalidRequest.Error(),
		},
		{
			name:       "env key with a dash is refused",
			req:        Request{Script: []byte("true"), Env: map[string]string{"A-B": "x"}},
			wantStatus: Error, wantCode: -1, wantError: errInvalidRequest.Error(),
		},
		{
			name:       "env key starting with a digit is refused",
			req:        Request{Script: []byte("true"), Env: map[string]string{"1A": "x"}},
			wantStatus: Error, wantCode: -1, wantError: errInvalidRequest.Error(),
		},
		{
			name:       "overriding PATH is refused",
			req:        Request{Script: []byte("true"), Env: map[string]string{"PATH": "/opt/evil"}},
			wantStatus: Error, wantCode: -1, wantError: "PATH is set by the executor",
		},
		{
			name:       "NUL in an argument is refused",
			req:        Request{Script: []byte("true"), Args: []string{"a\x00b"}},
			wantStatus: Error, wantCode: -1, wantError: "argument 1 contains a NUL byte",
		},
		{
			name:       "invalid UTF-8 output is replaced and flagged",
			req:        Request{Script: []byte(`printf 'ok\377\376end'`)},
			wantStatus: Succeeded, wantStdout: "ok\uFFFDend",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := run(t, tt.req)
			if res.Status != tt.wantStatus || res.ExitCode != tt.wantCode {
				t.Fatalf("status %s/%d, want %s/%d (error %q, stderr %q)", res.Status, res.ExitCode, tt.wantStatus, tt.wantCode, res.Error, res.Stderr)
			}
			if res.Stdout != tt.wantStdout {
				t.Errorf("stdout = %q, want %q", res.Stdout, tt.wantStdout)
			}
			if res.Stderr != tt.wantStderr {
				t.Errorf("stderr = %q, want %q", res.Stderr, tt.wantStderr)
			}
			if !strings.Contains(res.Error, tt.wantError) {
				t.Errorf("error = %q, want it to contain %q", res.Error, tt.wantError)
			}
			if res.StdoutBytes != int64(len(res.Stdout)) && !res.InvalidUTF8 {
				t.Errorf("StdoutBytes = %d for %q", res.StdoutBytes, res.Stdout)
			}
			if want := strings.Contains(tt.name, "invalid UTF-8"); res.InvalidUTF8 != want {
				t.Errorf("InvalidUTF8 = %v, want %v", res.InvalidUTF8, want)
			}
		})
	}
}

// TestArgsArriveVerbatim passes shell metacharacters as inputs: each must
// arrive as exactly one untouched argument, and nothing may be executed.
func TestArgsArriveVerbatim(t *testing.T) {
	canary := filepath.Join(t.TempDir(), "canary")
	args := []string{
		"; rm -rf /",
		"$(id)",
		"`id`",
		"line1\nline2",
		`"double" 'single'`,
		"$HOME ${PATH} $1 $@",
		"a\\b\\\\c",
		"   ",
		"",
		"* ?[a]",
		"x; touch " + canary,
		"$(touch " + canary + ")",
		"-e",
		"--",
	}
	for _, shebang := range []string{"", "#!/bin/bash\n"} {
		t.Run("shebang="+strconv.Quote(shebang), func(t *testing.T) {
			res := run(t, Request{
				Script:    []byte(shebang + `printf '%s' "$#"; for a in "$@"; do printf '\0%s' "$a"; done`),
				Args:      args,
				MaxOutput: 1 << 16,
			})
			if res.Status != Succeeded {
				t.Fatalf("status %s: %s %s", res.Status, res.Error, res.Stderr)
			}
			got := strings.Split(res.Stdout, "\x00")
			if got[0] != strconv.Itoa(len(args)) {
				t.Fatalf("script saw %s arguments, want %d", got[0], len(args))
			}
			for i, want := range args {
				if got[i+1] != want {
					t.Errorf("argument %d = %q, want %q", i+1, got[i+1], want)
				}
			}
			if _, err := os.Stat(canary); err == nil {
				t.Fatal("an argument was executed")
			}
		})
	}
}

// TestEnvironmentIsClean checks nothing of the daemon's environment leaks.
func TestEnvironmentIsClean(t *testing.T) {
	t.Setenv("MAW_LEAK_CHECK", "secret")
	t.Setenv("LD_PRELOAD", "")
	res := run(t, Request{
		Script:    []byte("env"),
		Env:       map[string]string{"MAW_INPUT_NAME": "value with spaces"},
		MaxOutput: 1 << 16,
	})
	if res.Status != Succeeded {
		t.Fatalf("status %s: %s", res.Status, res.Error)
	}
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"PATH":           scriptPATH,
		"HOME":           me.HomeDir,
		"USER":           me.Username,
		"LOGNAME":        me.Username,
		"LANG":           "en_US.UTF-8",
		"MAW_INPUT_NAME": "value with spaces",
	}
	// Variables the shell itself may export.
	shellOwn := map[string]bool{"PWD": true, "OLDPWD": true, "SHLVL": true, "_": true}
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(res.Stdout), "\n") {
		k, v, _ := strings.Cut(line, "=")
		got[k] = v
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if len(got[RunTokenVar]) != 32 {
		t.Errorf("%s = %q, want a 32-hex-digit token", RunTokenVar, got[RunTokenVar])
	}
	for k := range got {
		if _, ok := want[k]; !ok && k != RunTokenVar && !shellOwn[k] {
			t.Errorf("unexpected variable %s=%q", k, got[k])
		}
	}
}

// TestRunDirIsPrivate checks the working directory, file modes and umask the
// script sees.
func TestRunDirIsPrivate(t *testing.T) {
	res := run(t, Request{Script: []byte(`pwd; ls -ld . | cut -c1-10; ls -l "$0" | cut -c1-10; umask; touch f; ls -l f | cut -c1-10; read x || echo stdin-empty`)})
	if res.Status != Succeeded {
		t.Fatalf("status %s: %s %s", res.Status, res.Error, res.Stderr)
	}
	lines := strings.Split(strings.TrimSpace(res.Stdout), "\n")
	if len(lines) != 6 {
		t.Fatalf("output %q", res.Stdout)
	}
	if !strings.Contains(filepath.Base(lines[0]), "maw-run-") {
		t.Errorf("working dir %q is not the run dir", lines[0])
	}
	want := []string{"drwx------", "-rwx------", "0077", "-rw-------", "stdin-empty"}
	for i, w := range want {
		if lines[i+1] != w {
			t.Errorf("line %d = %q, want %q", i+2, lines[i+1], w)
		}
	}
}

func TestOutputFloodKeepsHeadAndTail(t *testing.T) {
	const flood = 50 << 20
	res := run(t, Request{
		Script:    []byte(`printf HEAD; head -c ` + strconv.Itoa(flood) + ` /dev/zero | tr '\0' x; printf TAIL; printf err >&2`),
		MaxOutput: 64,
	})
	if res.Status != Succeeded {
		t.Fatalf("status %s: %s", res.Status, res.Error)
	}
	if res.StdoutBytes != flood+8 || res.StderrBytes != 3 {
		t.Fatalf("counted %d/%d bytes, want %d/3", res.StdoutBytes, res.StderrBytes, flood+8)
	}
	want := "HEAD" + strings.Repeat("x", 28) + "\n… [" + strconv.Itoa(flood+8-64) + " bytes dropped] …\n" + strings.Repeat("x", 28) + "TAIL"
	if res.Stdout != want {
		t.Errorf("stdout = %q, want %q", res.Stdout, want)
	}
	if !res.Truncated || res.Stderr != "err" {
		t.Errorf("Truncated = %v, stderr %q", res.Truncated, res.Stderr)
	}
}

func TestDefaults(t *testing.T) {
	got := withDefaults(Request{Timeout: -1, MaxOutput: -5})
	if got.Timeout != 60*time.Second || got.KillGrace != 5*time.Second || got.MaxOutput != 1024 {
		t.Errorf("defaults = %v %v %v", got.Timeout, got.KillGrace, got.MaxOutput)
	}
	set := Request{Timeout: time.Second, KillGrace: time.Millisecond, MaxOutput: 7}
	if withDefaults(set).Timeout != time.Second || withDefaults(set).KillGrace != time.Millisecond || withDefaults(set).MaxOutput != 7 {
		t.Errorf("explicit values were replaced: %+v", withDefaults(set))
	}
}

func TestPython3Shebang(t *testing.T) {
	found := false
	for _, dir := range filepath.SplitList(scriptPATH) {
		if _, err := os.Stat(filepath.Join(dir, "python3")); err == nil {
			found = true
		}
	}
	if !found {
		t.Skip("python3 is not on the script PATH")
	}
	res := run(t, Request{
		Script: []byte("#!/usr/bin/env python3\nimport sys\nprint(sys.argv[1:])\n"),
		Args:   []string{"$(id)", "two words"},
	})
	if res.Status != Succeeded || res.Stdout != "['$(id)', 'two words']\n" {
		t.Fatalf("status %s stdout %q stderr %q", res.Status, res.Stdout, res.Stderr)
	}
}

func TestCancelledContext(t *testing.T) {
	t.Run("before start", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		res := Run(ctx, Request{Script: []byte("true"), TempDir: t.TempDir()})
		if res.Status != Error || !strings.Contains(res.Error, "not started") {
			t.Fatalf("status %s error %q", res.Status, res.Error)
		}
	})
	t.Run("while running", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		dir := t.TempDir()
		begin := time.Now()
		res := Run(ctx, Request{Script: []byte("echo started; sleep 30"), TempDir: dir, KillGrace: time.Second})
		if took := time.Since(begin); took > 5*time.Second {
			t.Errorf("Run took %s after cancel", took)
		}
		// The script did not run out of time: the agent stopped it.
		if res.Status != Error || res.ExitCode != 128+15 || !strings.Contains(res.Error, "interrupted") {
			t.Fatalf("status %s/%d error %q", res.Status, res.ExitCode, res.Error)
		}
		if res.Stdout != "started\n" {
			t.Errorf("stdout %q", res.Stdout)
		}
	})
}

// A context ended with ErrCancelled as its cause stops the script as a
// timeout does, and the run is Cancelled with the cause's text, not an
// interruption of the agent.
func TestCancelledByCause(t *testing.T) {
	cause := fmt.Errorf("%w by the administrator", ErrCancelled)
	t.Run("before start", func(t *testing.T) {
		ctx, cancel := context.WithCancelCause(context.Background())
		cancel(cause)
		res := Run(ctx, Request{Script: []byte("true"), TempDir: t.TempDir()})
		if res.Status != Cancelled || !strings.Contains(res.Error, "cancelled by the administrator before it started") {
			t.Fatalf("status %s error %q", res.Status, res.Error)
		}
	})
	t.Run("while running", func(t *testing.T) {
		ctx, cancel := context.WithTimeoutCause(context.Background(), 100*time.Millisecond, cause)
		defer cancel()
		res := Run(ctx, Request{Script: []byte("echo started; sleep 30"), TempDir: t.TempDir(), KillGrace: time.Second})
		if res.Status != Cancelled || !strings.Contains(res.Error, "cancelled by the administrator") || strings.Contains(res.Error, "interrupted") {
			t.Fatalf("status %s/%d error %q", res.Status, res.ExitCode, res.Error)
		}
	})
	t.Run("another cause interrupts", func(t *testing.T) {
		ctx, cancel := context.WithCancelCause(context.Background())
		cancel(errors.New("the agent is stopping"))
		res := Run(ctx, Request{Script: []byte("true"), TempDir: t.TempDir()})
		if res.Status != Error {
			t.Fatalf("status %s, want error", res.Status)
		}
	})
}

// KillRun stops what carries a run's token, and nothing else.
func TestKillRun(t *testing.T) {
	token, err := NewRunToken()
	if err != nil {
		t.Fatal(err)
	}
	tagged := exec.Command("sleep", "30")
	tagged.Env = append(os.Environ(), RunTokenVar+"="+token)
	other := exec.Command("sleep", "30")
	other.Env = append(os.Environ(), RunTokenVar+"=0123456789abcdef0123456789abcdef")
	for _, c := range []*exec.Cmd{tagged, other} {
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
	}
	defer other.Process.Kill()
	n, err := KillRun(token)
	if err != nil || n != 1 {
		t.Fatalf("KillRun = %d, %v; want the one tagged process", n, err)
	}
	if err := tagged.Wait(); err == nil {
		t.Fatal("the tagged process was not killed")
	}
	if err := other.Process.Signal(syscall.Signal(0)); err != nil {
		t.Fatalf("a process of another run was touched: %v", err)
	}
	if _, err := KillRun("not-a-token; rm -rf /"); err == nil {
		t.Fatal("a malformed token was accepted")
	}
}
