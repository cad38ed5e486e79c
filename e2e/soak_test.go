package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// soakIterations is how many agent check-ins the soak test kills or lets
// run: a short run in `make test`, MAW_SOAK_ITERATIONS=500 in `make soak`.
func soakIterations(t *testing.T) int {
	if s := os.Getenv("MAW_SOAK_ITERATIONS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("MAW_SOAK_ITERATIONS=%q: want a positive number", s)
		}
		return n
	}
	return 40
}

// soakServer runs mobileatwork-server serve as a process on a fixed port,
// so it can be killed with SIGKILL and started again where agents expect it.
type soakServer struct {
	t    *testing.T
	data string
	addr string
	cmd  *exec.Cmd
}

func (s *soakServer) start() {
	s.t.Helper()
	s.cmd = exec.Command(filepath.Join(binDir, "mobileatwork-server"), "serve", "--data", s.data, "--listen", s.addr, "--log-level", "warn")
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	waitFor(s.t, 5*time.Second, "the server to listen on "+s.addr, func() (bool, error) {
		c, err := net.Dial("tcp", s.addr)
		if err != nil {
			return false, err
		}
		return true, c.Close()
	})
}

func (s *soakServer) kill() {
	if s.cmd != nil && s.cmd.Process != nil {
		s.cmd.Process.Kill()
		s.cmd.Wait()
		s.cmd = nil
	}
}

// TestSoak kills the agent (SIGKILL, at random moments of its check-in:
// during download, the script, the result's delivery, after the ack) and
// the server (mid-request, and for outages of several check-ins) while run-once
// scripts are distributed, then lets both finish, and counts double runs,
// lost results and duplicated results: all must be 0.
//
// Not parallel: while the server is down another test could take its port.
func TestSoak(t *testing.T) {
	iterations := soakIterations(t)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	work := t.TempDir()
	data, state, ledger := filepath.Join(work, "data"), filepath.Join(work, "state"), filepath.Join(work, "runs.log")
	if _, stderr, code := run(t, "mobileatwork-server", "init", "--data", data); code != 0 {
		t.Fatal(stderr)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	srv := &soakServer{t: t, data: data, addr: addr}
	srv.start()
	defer func() { srv.kill() }()

	sv := func(args ...string) string {
		t.Helper()
		out, stderr, code := run(t, "mobileatwork-server", append(args, "--data", data)...)
		if code != 0 {
			t.Fatalf("%s: %s", strings.Join(args, " "), stderr)
		}
		return strings.TrimSpace(out)
	}
	sv("config", "distribute", "default", "--to", "all")
	tok := lastLine(sv("token", "create"))
	if _, stderr, code := run(t, "mobileatwork", "enroll", "--server", "https://"+addr, "--token", tok, "--state-dir", state); code != 0 {
		t.Fatal(stderr)
	}
	// Each script writes its configuration's name to runs.log (appends are
	// atomic at this size), sleeps a little so kills land inside it too.
	configs := max(iterations/4, 5)
	names := map[string]bool{}
	for i := range configs {
		name := fmt.Sprintf("soak-%03d", i)
		body := filepath.Join(work, name+".sh")
		os.WriteFile(body, []byte(fmt.Sprintf("echo %s >> %s\nsleep 0.0%d\n", name, ledger, rng.IntN(9)+1)), 0o600)
		sv("script", "add", "--name", name, "--file", body)
		sv("assign", "--name", name, "--script", name, "--to", "all")
		names[name] = true
	}

	agentKills, serverKills, outages := 0, 0, 0
	down := 0
	for i := range iterations {
		switch {
		case down > 0:
			down--
			if down == 0 {
				srv.start()
			}
		case rng.IntN(10) == 0:
			srv.kill()
			serverKills++
			if rng.IntN(3) == 0 {
				outages++
				down = 1 + rng.IntN(3) // the server stays down for a few check-ins
			} else {
				srv.start()
			}
		}
		cmd := exec.Command(filepath.Join(binDir, "mobileatwork"), "checkin", "--state-dir", state)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if rng.IntN(3) > 0 {
			time.Sleep(time.Duration(rng.IntN(400)) * time.Millisecond)
			cmd.Process.Kill()
			agentKills++
		}
		cmd.Wait()
		if i%10 == 9 && down == 0 && rng.IntN(2) == 0 {
			// The server dies in the middle of a delivery.
			cmd := exec.Command(filepath.Join(binDir, "mobileatwork"), "checkin", "--state-dir", state)
			cmd.Start()
			time.Sleep(time.Duration(rng.IntN(200)) * time.Millisecond)
			srv.kill()
			serverKills++
			cmd.Wait()
			srv.start()
		}
	}
	if down > 0 {
		srv.start()
	}
	// Quiet: both run to the end; every run-once configuration is settled.
	for range 5 {
		run(t, "mobileatwork", "checkin", "--state-dir", state)
	}

	ran := map[string]int{}
	if f, err := os.Open(ledger); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			ran[strings.TrimSpace(sc.Text())]++
		}
		f.Close()
	}
	var results []struct {
		RunID      string `json:"run_id"`
		ConfigName string `json:"config_name"`
		Status     string `json:"status"`
		Error      string `json:"error"`
	}
	if err := json.Unmarshal([]byte(sv("results", "--json")), &results); err != nil {
		t.Fatal(err)
	}
	perConfig := map[string]int{}
	runIDs := map[string]int{}
	for _, r := range results {
		perConfig[r.ConfigName]++
		runIDs[r.RunID]++
	}
	doubleRuns, lost, duplicated, unsettled := 0, 0, 0, 0
	for name := range names {
		if ran[name] > 1 {
			doubleRuns++
		}
		switch {
		case perConfig[name] == 0 && ran[name] > 0:
			lost++
		case perConfig[name] == 0:
			unsettled++
		case perConfig[name] > 1:
			duplicated++
		}
	}
	for _, n := range runIDs {
		if n > 1 {
			duplicated++
		}
	}
	t.Logf("soak: %d iterations, %d agent kills, %d server kills (%d outages); %d configurations: %d double runs, %d lost results, %d duplicated results, %d never settled",
		iterations, agentKills, serverKills, outages, configs, doubleRuns, lost, duplicated, unsettled)
	if doubleRuns+lost+duplicated+unsettled > 0 {
		t.Fatalf("soak failed: %d double runs, %d lost, %d duplicated, %d never settled (runs %v, results per configuration %v)",
			doubleRuns, lost, duplicated, unsettled, ran, perConfig)
	}
}
