package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/protocol"
)

// run runs a built binary and returns stdout, stderr and the exit code.
func run(t *testing.T, name string, args ...string) (string, string, int) {
	t.Helper()
	return runEnv(t, nil, name, args...)
}

// oneErrorLine checks the CLI convention: non-zero exit, one "error: " line.
func oneErrorLine(t *testing.T, stderr string, code int, want string) {
	t.Helper()
	lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
	if code == 0 || len(lines) != 1 || !strings.HasPrefix(lines[0], "error: ") || !strings.Contains(lines[0], want) {
		t.Fatalf("exit %d, stderr %q; want one error line mentioning %q", code, stderr, want)
	}
}

func TestServerCLIRefusesBadInputAndChangesNothing(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "data")
	if _, stderr, code := run(t, "mobileatwork-server", "init", "--data", data); code != 0 {
		t.Fatalf("init: %s", stderr)
	}
	_, stderr, code := run(t, "mobileatwork-server", "init", "--data", data)
	oneErrorLine(t, stderr, code, "already exists")

	script := filepath.Join(t.TempDir(), "s.sh")
	os.WriteFile(script, []byte("echo hi\n"), 0o600)
	binary := filepath.Join(t.TempDir(), "b.bin")
	os.WriteFile(binary, []byte("\x7fELF\x00\x00\x01"), 0o600)
	big := filepath.Join(t.TempDir(), "big.sh")
	os.WriteFile(big, bytes.Repeat([]byte("#\n"), protocol.MaxScriptBytes), 0o600)

	sid, stderr, code := run(t, "mobileatwork-server", "script", "add", "--data", data, "--name", "s", "--file", script, "--input", "Who:who=x")
	if code != 0 {
		t.Fatalf("script add: %s", stderr)
	}
	sid = strings.TrimSpace(sid)

	tests := []struct {
		name string
		args []string
		want string
	}{
		{"negative seconds", []string{"config", "set", "max_execution_seconds=-1"}, "out of range"},
		{"not a number", []string{"config", "set", "max_response_kb=abc"}, "not a whole number"},
		{"unknown key", []string{"config", "set", "colour=blue"}, "unknown key"},
		{"one bad pair", []string{"config", "set", "max_response_kb=2", "checkin_interval_minutes=0"}, "out of range"},
		{"missing file", []string{"script", "add", "--name", "x", "--file", filepath.Join(t.TempDir(), "nope.sh")}, "no such file"},
		{"binary script", []string{"script", "add", "--name", "x", "--file", binary}, "not text"},
		{"oversized script", []string{"script", "add", "--name", "x", "--file", big}, "limit"},
		{"bad input decl", []string{"script", "add", "--name", "x", "--file", script, "--input", "no-colon"}, "LABEL:NAME"},
		{"unknown script", []string{"assign", "--script", "scr_nope", "--to", "all"}, "no script"},
		{"bad target", []string{"assign", "--script", sid, "--to", "everyone"}, "--to"},
		{"unknown device", []string{"assign", "--script", sid, "--to", "device:dev_nope"}, "unknown device"},
		{"unknown user", []string{"assign", "--script", sid, "--to", "user:zed@example.com"}, "unknown user"},
		{"none mixed with a target", []string{"config", "distribute", "default", "--to", "none,group:lab"}, "cannot be mixed"},
		{"unknown REF", []string{"config", "show", "nope"}, `no configuration "nope"`},
		{"duplicate name", []string{"config", "add", "mobileatwork", "--name", "Default"}, "exists already"},
		{"unknown kind", []string{"config", "add", "profile", "--name", "x"}, "want mobileatwork or script"},
		{"priority out of range", []string{"config", "priority", "default", "2"}, "out of range"},
		{"delete default", []string{"config", "delete", "default"}, "cannot be deleted"},
		{"script flags on Mobile@Work", []string{"config", "add", "mobileatwork", "--name", "x", "--daily", "10:00"}, "belongs to script configurations"},
		{"settings on a script", []string{"config", "add", "script", "--name", "x", "--script", sid, "max_response_kb=2"}, "no KEY=VALUE"},
		{"unknown sub-command", []string{"script", "frob", "x"}, `unknown command "frob" for "mobileatwork-server script"`},
		{"group without sub-command", []string{"config"}, "needs a sub-command"},
		{"bad --since", []string{"results", "--since", "yesterday"}, "--since"},
		{"bad --status", []string{"results", "--status", "great"}, "--status"},
		{"revoke unknown token", []string{"token", "revoke", "tok_nope"}, "no token"},
		{"negative ttl", []string{"token", "create", "--ttl", "-1h"}, "--ttl"},
		{"garbage uses", []string{"token", "create", "--uses", "x"}, "invalid argument"},
		{"token user not an email", []string{"token", "create", "--user", "bob"}, "not an email address"},
		{"nothing to set", []string{"config", "set"}, "nothing to change"},
		{"negative limit", []string{"results", "--limit", "-1"}, "--limit"},
		{"groups of an unknown device", []string{"groups", "dev_nope", "lab"}, "no device"},
		{"user group named none", []string{"user-group", "add", "none"}, "reserved"},
		{"backup without --out", []string{"backup"}, "--out is required"},
		{"serve with no room", []string{"serve", "--listen", "127.0.0.1:0", "--max-in-flight", "0"}, "--max-in-flight must be at least 1"},
		{"serve with a negative enrollment rate", []string{"serve", "--listen", "127.0.0.1:0", "--enroll-rate", "-1"}, "--enroll-rate must be 0"},
		{"restore from no backup", []string{"restore", "--from", t.TempDir()}, "already holds a database"},
		{"distribute without --to", []string{"config", "distribute", "default"}, "--to is required"},
		{"undeclared input", []string{"assign", "--script", sid, "--to", "all", "--input", "what=1"}, "declares no input"},
		{"unknown variable", []string{"assign", "--script", sid, "--to", "all", "--input", "who={$noSuchVariable}"}, "{$deviceSerialNumber}"},
		{"invalid time", []string{"assign", "--script", sid, "--to", "all", "--daily", "24:00"}, "24:00"},
		{"end before start", []string{"assign", "--script", sid, "--to", "all", "--daily", "10:00", "--start", "2027-02-01", "--end", "2027-01-01"}, "end"},
		{"zero uses", []string{"token", "create", "--uses", "0"}, "--uses"},
		{"stray argument", []string{"devices", "extra"}, "no arguments"},
		{"trigger mixed with a schedule", []string{"assign", "--script", sid, "--to", "all", "--on", "login", "--daily", "10:00"}, "--on runs on a trigger and takes no --daily"},
		{"unknown trigger", []string{"assign", "--script", sid, "--to", "all", "--on", "reboot"}, "want enrollment, login, network or event:NAME"},
		{"bad event name", []string{"config", "add", "script", "--name", "x", "--script", sid, "--on", "event:a;b"}, "only letters"},
		{"event without a name", []string{"assign", "--script", sid, "--to", "all", "--on", "event"}, "event:NAME"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, code := run(t, "mobileatwork-server", append(tt.args, "--data", data)...)
			oneErrorLine(t, stderr, code, tt.want)
		})
	}
	// Nothing changed: defaults intact and distributed to no one, one
	// script, no other configuration.
	out, _, _ := run(t, "mobileatwork-server", "config", "show", "--json", "--data", data)
	var cfg struct {
		Settings     map[string]string `json:"settings"`
		Version      int               `json:"version"`
		Distribution struct {
			Level string `json:"level"`
		} `json:"distribution"`
	}
	if err := json.Unmarshal([]byte(out), &cfg); err != nil || cfg.Settings["max_response_kb"] != "1" ||
		cfg.Settings["checkin_interval_minutes"] != "15" || cfg.Version != 1 || cfg.Distribution.Level != "none" {
		t.Fatalf("configuration changed by refused commands: %+v %v", cfg, err)
	}
	out, _, _ = run(t, "mobileatwork-server", "configs", "--json", "--data", data)
	var configs []map[string]any
	if err := json.Unmarshal([]byte(out), &configs); err != nil || len(configs) != 1 {
		t.Fatalf("%d configurations after refusals, want the default alone: %v", len(configs), err)
	}
	out, _, _ = run(t, "mobileatwork-server", "scripts", "--json", "--data", data)
	var scripts []map[string]any
	json.Unmarshal([]byte(out), &scripts)
	if len(scripts) != 1 {
		t.Fatalf("%d scripts after refusals, want 1", len(scripts))
	}

	_, stderr, code = run(t, "mobileatwork-server", "devices", "--data", filepath.Join(t.TempDir(), "empty"))
	oneErrorLine(t, stderr, code, "init")
}

func TestAgentCLIWithoutEnrollment(t *testing.T) {
	t.Parallel()
	state := filepath.Join(t.TempDir(), "state")
	_, stderr, code := run(t, "mobileatwork", "checkin", "--state-dir", state)
	oneErrorLine(t, stderr, code, "mobileatwork enroll --server URL --token TOKEN")
	out, _, code := run(t, "mobileatwork", "status", "--json", "--state-dir", state)
	if code != 0 || !strings.Contains(out, `"enrolled": false`) {
		t.Fatalf("status of an unenrolled agent: %d %s", code, out)
	}
	_, stderr, code = run(t, "mobileatwork", "enroll", "--state-dir", state, "--server", "https://127.0.0.1:1", "--token", "garbage")
	oneErrorLine(t, stderr, code, "malformed enrollment token")
	if _, err := os.Stat(state); err == nil {
		t.Fatal("a refused enrollment created the state directory")
	}
}

// A kill -9 of the agent while a run-once script runs must not lose the run
// nor run the script again: the restarted agent reports it as interrupted.
func TestAgentKilledMidRunDoesNotRunTwice(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	state := e.enroll()
	dir := t.TempDir()
	count, pidFile := filepath.Join(dir, "count"), filepath.Join(dir, "pid")
	e.script("echo run >> "+count+"\necho $$ > "+pidFile+"\nsleep 30\n", nil)

	cmd := exec.Command(filepath.Join(binDir, "mobileatwork"), "checkin", "--state-dir", state)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil { // the test ended before it killed the agent
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	waitFor(t, 20*time.Second, "the script to start", func() (bool, error) {
		b, err := os.ReadFile(pidFile)
		return err == nil && len(b) > 1, err
	})
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	b, err := os.ReadFile(pidFile)
	pid, perr := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || perr != nil {
		t.Fatalf("script pid: %v %v", err, perr)
	}
	defer syscall.Kill(pid, syscall.SIGKILL)
	if err := syscall.Kill(pid, 0); err != nil {
		t.Fatalf("the orphaned script is already gone (%v): the test proves nothing", err)
	}

	for i := 0; i < 2; i++ {
		if err := newAgent(t, state).Cycle(context.Background()); err != nil {
			t.Fatalf("cycle after restart: %v", err)
		}
	}
	// The restarted agent stopped the script the dead one left running.
	if alive(pid) {
		t.Fatalf("the interrupted script (pid %d) still runs after the agent restarted", pid)
	}
	b, _ = os.ReadFile(count)
	if n := strings.Count(string(b), "run"); n != 1 {
		t.Fatalf("script ran %d times, want exactly once", n)
	}
	rs := e.results()
	if len(rs) != 1 || rs[0].Status != protocol.StatusError || !strings.Contains(rs[0].Error, "interrupted") {
		t.Fatalf("results = %+v, want one error result saying interrupted", rs)
	}
}

// alive tells whether pid still runs, and is not a zombie waiting for its
// parent, after a second given to it to go.
func alive(pid int) bool {
	return poll(time.Second, func() (bool, error) {
		if syscall.Kill(pid, 0) != nil {
			return true, nil
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return false, err
		}
		f := strings.Fields(string(stat))
		return len(f) > 2 && f[2] == "Z", nil
	}) != nil
}
