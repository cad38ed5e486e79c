package e2e

import (
	"context"
	"errors"
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
	e := newEnv(t)
	state := e.enroll()
	dir := t.TempDir()
	started, finished := filepath.Join(dir, "started"), filepath.Join(dir, "finished")
	e.script("echo quick\n", nil)
	e.script("touch "+started+"\nsleep 4\ntouch "+finished+"\n", nil)
	a := newAgentWith(t, state, func(o *agent.Options) {
		o.Capabilities, o.Interval = []string{protocol.CapSchedule}, 300*time.Millisecond
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Daemon(ctx) }()
	defer func() {
		cancel()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Error("daemon did not stop")
		}
	}()

	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		_, errStarted := os.Stat(started)
		_, errFinished := os.Stat(finished)
		if errStarted == nil && errFinished != nil && len(e.results()) == 1 {
			if e.results()[0].Stdout != "quick\n" {
				t.Fatalf("delivered %+v, want the quick script's result", e.results()[0])
			}
			// Beside the running daemon: a second runner is refused, and a
			// reader does not take the running script for an interrupted one.
			if err := newAgent(t, state).Cycle(context.Background()); !errors.Is(err, agent.ErrBusy) {
				t.Fatalf("check-in beside the daemon: %v, want ErrBusy", err)
			}
			if st := newAgent(t, state).Status(); st.Queued != 0 {
				t.Fatalf("status beside the daemon queued %d result(s): it settled the running script", st.Queued)
			}
			return // delivered while the long script still runs
		}
		if errFinished == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the quick result was not delivered while the long script ran (%d results)", len(e.results()))
}
