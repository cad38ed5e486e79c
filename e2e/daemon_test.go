package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/agent"
	"github.com/mobileatwork/mobileatwork/protocol"
)

// A long script must not hold back the delivery of earlier results: the
// daemon runs scripts in the background and keeps checking in and flushing.
func TestDaemonFlushesWhileALongScriptRuns(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	state := e.enroll()
	dir := t.TempDir()
	started, release, finished := filepath.Join(dir, "started"), filepath.Join(dir, "release"), filepath.Join(dir, "finished")
	e.script("echo quick\n", nil)
	// The long script runs until the test releases it (30 s at most), so
	// what is checked beside it does not race its end.
	e.script("touch "+started+"\ni=0\nwhile [ ! -e "+release+" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done\ntouch "+finished+"\n", nil)
	a := newAgentWith(t, state, func(o *agent.Options) {
		o.Capabilities, o.Interval = []string{protocol.CapSchedule}, 300*time.Millisecond
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Daemon(ctx) }()
	defer func() {
		os.WriteFile(release, nil, 0o600)
		cancel()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Error("daemon did not stop")
		}
	}()

	// Delivered while the long script still runs: once it finished, the
	// condition can no longer hold and the wait fails.
	waitFor(t, 10*time.Second, "the quick result delivered while the long script runs", func() (bool, error) {
		_, errStarted := os.Stat(started)
		_, errFinished := os.Stat(finished)
		n := len(e.results())
		switch {
		case errFinished == nil:
			return false, fmt.Errorf("the long script finished with %d result(s) delivered", n)
		case errStarted != nil:
			return false, errStarted
		}
		return n == 1, nil
	})
	if rs := e.results(); rs[0].Stdout != "quick\n" {
		t.Fatalf("delivered %+v, want the quick script's result", rs[0])
	}
	// Beside the running daemon: a second runner is refused, and a reader
	// does not take the running script for an interrupted one, which would
	// report it as an error instead of its own result.
	if err := newAgent(t, state).Cycle(context.Background()); !errors.Is(err, agent.ErrBusy) {
		t.Fatalf("check-in beside the daemon: %v, want ErrBusy", err)
	}
	newAgent(t, state).Status()
	if err := os.WriteFile(release, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the long script's result", func() (bool, error) {
		return len(e.results()) >= 2, nil
	})
	if rs := e.results(); len(rs) != 2 || rs[1].Status != protocol.StatusSucceeded {
		t.Fatalf("results %+v, want the quick one and the long script succeeded: a reader beside the daemon settled it", rs)
	}
}
