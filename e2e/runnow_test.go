package e2e

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/agent"
	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// watchWakes runs the server's wake watcher beside the test's handler, as
// Serve does, until the end of t.
func (e *env) watchWakes(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { e.srv.WatchWakes(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait() })
}

// daemon runs a on its own until the end of t.
func daemon(t *testing.T, a *agent.Agent) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Daemon(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("daemon: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("daemon did not stop")
		}
	})
}

// checkedIn waits until the device's first check-in was recorded, so what
// follows cannot ride on it.
func checkedIn(t *testing.T, s *server.Server, id string) {
	t.Helper()
	waitFor(t, 20*time.Second, "the daemon's first check-in", func() (bool, error) {
		d, err := s.Store.Device(context.Background(), id)
		return !d.LastCheckin.IsZero(), err
	})
}

// resultsOf lists the results of one configuration.
func resultsOf(t *testing.T, s *server.Server, config string) []store.StoredResult {
	t.Helper()
	rs, err := s.Store.Results(context.Background(), store.ResultFilter{ConfigID: config})
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// A daemon that checks in every 15 minutes runs a script of `run` within
// seconds: the separate admin process reaches it through the store and the
// wake channel. An offline device gets it at its next check-in, and after
// --expires a device that has not run it no longer does.
func TestRunNowReachesAnOnlineDaemonInSeconds(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.watchWakes(t)
	online, offline := e.enroll(), e.enroll()
	a := newAgentWith(t, online, func(o *agent.Options) { o.Interval = 15 * time.Minute })
	b := newAgent(t, offline)
	sc := e.addScript("#!/bin/sh\necho \"hello $MAW_INPUT_WHO\"\n", []store.InputDecl{{Label: "Who", Name: "who"}})
	daemon(t, a)
	checkedIn(t, e.srv, a.DeviceID())

	start := time.Now()
	stdout, stderr, code := run(t, "mobileatwork-server", "run", "--data", e.data, "--script", sc.Name,
		"--device", a.DeviceID(), "--input", "who=ada", "--wait", "60s")
	if code != 0 || !strings.Contains(stdout, a.DeviceID()+"\tsucceeded\texit 0") || !strings.Contains(stdout, "hello ada") {
		t.Fatalf("run --wait: exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	if took := time.Since(start); took > 20*time.Second {
		t.Fatalf("the result took %s with a 15-minute interval", took)
	}
	if !strings.Contains(stderr, "1 of 1 device(s) answered: 1 succeeded") {
		t.Fatalf("summary: %s", stderr)
	}

	// The offline device does not answer in time: exit 3, one error line
	// after the summary; it runs the script at its next check-in.
	stdout, stderr, code = run(t, "mobileatwork-server", "run", "--data", e.data, "--script", sc.ID,
		"--device", b.DeviceID(), "--input", "who=bob", "--wait", "1s", "--json")
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if code != 3 || !strings.HasPrefix(lines[len(lines)-1], "error: 1 device(s) did not answer within 1s: "+b.DeviceID()) {
		t.Fatalf("run for an offline device: exit %d\nstderr %s", code, stderr)
	}
	var doc struct {
		Configuration struct {
			ID        string    `json:"id"`
			ExpiresAt time.Time `json:"expires_at"`
		} `json:"configuration"`
		Unanswered []string `json:"unanswered"`
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatalf("run --json: %v\n%s", err, stdout)
	}
	if len(doc.Unanswered) != 1 || doc.Unanswered[0] != b.DeviceID() || doc.Configuration.ExpiresAt.Before(time.Now().Add(23*time.Hour)) {
		t.Fatalf("run --json: %s", stdout)
	}
	if err := b.Cycle(context.Background()); err != nil {
		t.Fatal(err)
	}
	if rs := resultsOf(t, e.srv, doc.Configuration.ID); len(rs) != 1 || rs[0].Stdout != "hello bob\n" {
		t.Fatalf("the offline device's next check-in: results %+v", rs)
	}

	// Expired before the device checked in: it is not sent.
	rn, err := e.srv.RunNow(context.Background(), server.RunNowRequest{Script: sc.ID, Devices: []string{b.DeviceID()}, Expires: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond)
	if err := b.Cycle(context.Background()); err != nil {
		t.Fatal(err)
	}
	if rs := resultsOf(t, e.srv, rn.Config.ID); len(rs) != 0 {
		t.Fatalf("an expired run-now configuration ran: %+v", rs)
	}

	// A refused request makes nothing.
	before, _ := e.srv.Store.Configurations(context.Background())
	_, stderr, code = run(t, "mobileatwork-server", "run", "--data", e.data, "--script", sc.ID)
	oneErrorLine(t, stderr, code, "--device ID or --to TARGET")
	_, stderr, code = run(t, "mobileatwork-server", "run", "--data", e.data, "--script", sc.ID, "--device", a.DeviceID(), "--wait", "-1s")
	oneErrorLine(t, stderr, code, "--wait must be")
	if after, _ := e.srv.Store.Configurations(context.Background()); len(after) != len(before) {
		t.Fatalf("refused runs left %d configurations", len(after)-len(before))
	}
}

// The wake channel outlives a restart of the server: the agent holds it
// again with backoff, and the next run-now reaches it in seconds.
func TestWakeChannelSurvivesServerRestart(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "data")
	srv, err := server.Init(data, "Test tenant", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	if _, err := srv.Distribute(context.Background(), "default", []string{"all"}, false); err != nil {
		t.Fatal(err)
	}
	addr := make(chan net.Addr, 1)
	serve := func(listen string) func() {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- srv.Serve(ctx, listen, func(a net.Addr) { addr <- a }) }()
		return func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("serve: %v", err)
			}
		}
	}
	stop := serve("127.0.0.1:0")
	var bound net.Addr
	select {
	case bound = <-addr:
	case <-time.After(10 * time.Second):
		t.Fatal("the server did not listen")
	}
	tok, err := srv.CreateToken(context.Background(), "ada@example.com", 1, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(t.TempDir(), "state")
	if _, err := agent.Enroll(context.Background(), agent.EnrollOptions{
		StateDir: state, ServerURL: "https://" + bound.String(), Token: tok, Facts: testFacts,
		Capabilities: []string{protocol.CapSchedule},
	}); err != nil {
		t.Fatal(err)
	}
	a := newAgentWith(t, state, func(o *agent.Options) { o.Interval = 15 * time.Minute })
	sc, err := srv.AddScript(context.Background(), "hello", "", []byte("echo hello\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	daemon(t, a)
	checkedIn(t, srv, a.DeviceID())
	runNow := func(what string) {
		t.Helper()
		rn, err := srv.RunNow(context.Background(), server.RunNowRequest{Script: sc.ID, Devices: []string{a.DeviceID()}})
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, 20*time.Second, what, func() (bool, error) {
			return len(resultsOf(t, srv, rn.Config.ID)) == 1, nil
		})
	}
	runNow("a run-now result before the restart")

	stop()
	time.Sleep(200 * time.Millisecond) // the agent finds no server for a moment
	stop = serve(bound.String())
	defer func() { stop() }()
	<-addr
	runNow("a run-now result after the restart")
}

// The wake channel outlives a network drop on the agent's side, the server
// staying up: every connection is cut while the channel is held, the agent
// holds it again after a short backoff, and a run-now reaches it in seconds
// although its interval is 15 minutes.
func TestWakeChannelSurvivesANetworkDrop(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.watchWakes(t)
	var mu sync.Mutex
	held := 0 // wake requests that reached the server
	e.setIntercept(func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		if r.URL.Path == protocol.PathWake {
			mu.Lock()
			held++
			mu.Unlock()
		}
		next.ServeHTTP(w, r)
	})
	wakes := func() int { mu.Lock(); defer mu.Unlock(); return held }
	a := newAgentWith(t, e.enroll(), func(o *agent.Options) { o.Interval = 15 * time.Minute })
	sc := e.addScript("#!/bin/sh\necho after the drop\n", nil)
	daemon(t, a)
	checkedIn(t, e.srv, a.DeviceID())
	waitFor(t, 20*time.Second, "the wake channel held", func() (bool, error) { return wakes() >= 1, nil })

	before := wakes()
	e.ts.CloseClientConnections() // the network drops: the held request and the check-in connection go
	waitFor(t, 30*time.Second, "the wake channel held again", func() (bool, error) { return wakes() > before, nil })

	rn, err := e.srv.RunNow(context.Background(), server.RunNowRequest{Script: sc.ID, Devices: []string{a.DeviceID()}})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "the run-now result after the drop", func() (bool, error) {
		return len(resultsOf(t, e.srv, rn.Config.ID)) == 1, nil
	})
	if rs := resultsOf(t, e.srv, rn.Config.ID); rs[0].Status != protocol.StatusSucceeded || rs[0].Stdout != "after the drop\n" {
		t.Fatalf("result after the drop: %+v", rs[0])
	}
}
