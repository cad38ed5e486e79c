package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// apiTokenFor is a new API token of role on the tenant in dataDir, made
// as an administrator makes one, for the CLI's remote mode.
func apiTokenFor(t *testing.T, dataDir, role string) string {
	t.Helper()
	out, stderr, code := run(t, "mobileatwork-server", "admin", "token", "create", "e2e-"+role, "--role", role, "--data", dataDir)
	if code != 0 {
		t.Fatalf("admin token create: %s", stderr)
	}
	return lastLine(out)
}

// adminServer is `serve` with its admin listener, the CLI's remote end.
type adminServer struct {
	soakServer
	admin string // address of the admin listener
}

func startAdminServer(t *testing.T, data string) *adminServer {
	t.Helper()
	s := &adminServer{soakServer: soakServer{t: t, data: data, addr: freeAddr(t)}}
	addrFile := filepath.Join(t.TempDir(), "admin-addr")
	s.cmd = exec.Command(filepath.Join(binDir, "mobileatwork-server"), "serve", "--data", data, "--listen", s.addr,
		"--admin-listen", "127.0.0.1:0", "--admin-addr-file", addrFile, "--log-level", "warn")
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.kill)
	waitFor(t, 10*time.Second, "the admin listener", func() (bool, error) {
		b, err := os.ReadFile(addrFile)
		s.admin = strings.TrimSpace(string(b))
		return err == nil && s.admin != "", nil
	})
	return s
}

// cliRun is one run of the server CLI: what it printed and its status.
type cliRun struct {
	stdout, stderr string
	code           int
}

// runServerEnv runs the server CLI with extra environment.
func runServerEnv(t *testing.T, env []string, args ...string) cliRun {
	t.Helper()
	cmd := exec.Command(filepath.Join(binDir, "mobileatwork-server"), args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := cliRun{stdout: out.String(), stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return r
}

// The configuration commands print the same and exit the same on the data
// directory and through the admin API, refusals included.
func TestServerCLIRemoteModeMatchesLocal(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "data")
	admin(t, data, "init")
	token := apiTokenFor(t, data, "admin")
	srv := startAdminServer(t, data)
	local := func(args ...string) cliRun { return runServerEnv(t, nil, append(args, "--data", data)...) }
	remote := func(args ...string) cliRun {
		return runServerEnv(t, []string{"MAW_API_TOKEN=" + token},
			append(args, "--server", "https://"+srv.admin, "--ca", filepath.Join(data, "pki", "ca.crt"))...)
	}

	body := filepath.Join(t.TempDir(), "hello.sh")
	if err := os.WriteFile(body, []byte("#!/bin/sh\necho hello $1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := remote("script", "add", "--name", "hello", "--file", body, "--input", "Who:who=world"); r.code != 0 {
		t.Fatalf("script add through the API: %s", r.stderr)
	}
	cfg := lastLine(remote("config", "add", "script", "--name", "Say hello", "--script", "hello", "--weekly", "18:30", "--days", "mon,fri").stdout)
	state := filepath.Join(t.TempDir(), "state")
	enrolled, errOut, code := run(t, "mobileatwork", "enroll", "--server", "https://"+srv.addr, "--token", lastLine(local("token", "create").stdout), "--state-dir", state)
	if code != 0 {
		t.Fatal(errOut)
	}
	device := lastLine(enrolled)

	same := func(args ...string) {
		t.Helper()
		if l, r := local(args...), remote(args...); l != r {
			t.Errorf("%s:\nlocal  exit %d\n%s%s\nremote exit %d\n%s%s", strings.Join(args, " "), l.code, l.stdout, l.stderr, r.code, r.stdout, r.stderr)
		}
	}
	for _, args := range [][]string{
		{"configs"}, {"configs", "--json"}, {"configs", "--kind", "script"},
		{"config", "show"}, {"config", "show", cfg, "--json"}, {"config", "show", "Say hello"},
		{"config", "distribute", cfg, "--to", "all", "--dry-run"}, {"config", "distribute", cfg, "--to", "device:" + device, "--dry-run", "--json"},
		{"config", "set", cfg, "--weekly", "18:30", "--days", "fri,mon"},
		{"scripts"}, {"scripts", "--json"}, {"script", "show", "hello"}, {"script", "show", "hello", "--json"},
		{"results"}, {"results", "--json", "--since", "24h"},
		{"resume-scripts"},
		// The fleet, people, catalog and enrollment, read both ways.
		{"devices"}, {"devices", "--json"}, {"device", "show", device}, {"device", "show", device, "--json"},
		{"device-groups"}, {"users"}, {"users", "--json"}, {"user-groups"}, {"inventory", device},
		{"onboarding", device}, {"app", "list"}, {"app", "list", "--json"}, {"profile", "list"}, {"link", "list"},
		{"tenant", "show"}, {"tenant", "show", "--json"}, {"tokens"}, {"admin", "list"}, {"admin", "token", "list", "--json"},
		{"audit", "--action", "script."}, {"audit", "--json", "--limit", "3"},
		{"device", "show", "dev_nope"}, {"inventory", "dev_nope"}, {"groups", "dev_nope", "lab"},
		{"user", "add", "not-an-email"}, {"admin", "add", "eve", "--role", "root"}, {"admin", "role", "nobody", "auditor"},
		// Refusals: one line, the same status.
		{"config", "show", "nope"}, {"config", "add", "mobileatwork", "--name", "x", "--daily", "10:00"},
		{"assign", "--script", "hello", "--to", "all", "--on", "login", "--daily", "10:00"},
		{"assign", "--script", "hello", "--to", "everyone"}, {"config", "priority", "default", "2"},
		{"results", "--since", "yesterday"}, {"results", "--limit", "-1"}, {"script", "delete", "hello"},
		{"run", "--script", "hello"},
	} {
		same(args...)
	}

	// run --wait follows the run through the API until the device answers.
	admin(t, data, "config", "distribute", "default", "--to", "all")
	cmd := exec.Command(filepath.Join(binDir, "mobileatwork-server"), "run", "--script", "hello", "--device", device, "--input", "who=remote", "--wait", "60s",
		"--server", "https://"+srv.admin, "--ca", filepath.Join(data, "pki", "ca.crt"))
	cmd.Env = append(os.Environ(), "MAW_API_TOKEN="+token)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the run-now configuration", func() (bool, error) {
		return strings.Contains(local("configs").stdout, "Run now: hello"), nil
	})
	// The result travels with the check-in after the one that runs it.
	for range 2 {
		if _, stderr, code := run(t, "mobileatwork", "checkin", "--state-dir", state); code != 0 {
			t.Fatal(stderr)
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("run --wait: %v\n%s%s", err, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), device+"\tsucceeded\texit 0") || !strings.Contains(out.String(), "hello remote") ||
		!strings.Contains(errb.String(), "1 of 1 device(s) answered: 1 succeeded") {
		t.Fatalf("run --wait printed:\n%s%s", out.String(), errb.String())
	}
	same("results")
	same("results", "--json", "--device", device, "--limit", "1")
}
