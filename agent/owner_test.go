package agent

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/goleak"

	"github.com/mobileatwork/mobileatwork/executor"
	"github.com/mobileatwork/mobileatwork/protocol"
)

// funcReceiver is a receiver made of a function.
type funcReceiver struct {
	name string
	f    func(ctx context.Context) error
}

func (r funcReceiver) Name() string { return r.name }

func (r funcReceiver) Receive(ctx context.Context, _ *protocol.CheckinPayload) error { return r.f(ctx) }

func noConsoleUser() (executor.User, error) { return executor.User{}, executor.ErrNoConsoleUser }

// slowWork takes a while to clean up once cancelled, so that an owner
// that does not wait for it is caught returning first.
type slowWork struct {
	started chan struct{}
	cleanup *clockwork.FakeClock
	stopped atomic.Bool
}

func newSlowWork() *slowWork {
	return &slowWork{started: make(chan struct{}), cleanup: clockwork.NewFakeClock()}
}

func (w *slowWork) run(ctx context.Context) {
	close(w.started)
	<-ctx.Done()
	w.cleanup.Sleep(time.Second)
	w.stopped.Store(true)
}

// finish lets the cleanup end once it began.
func (w *slowWork) finish(t *testing.T) {
	if w.cleanup.BlockUntilContext(t.Context(), 1) == nil {
		w.cleanup.Advance(time.Second)
	}
}

// With no receiver registered nothing would act on a check-in: Cycle and
// Daemon refuse to start, and nothing changes, not even the status.
func TestRunsRefusedWithoutReceivers(t *testing.T) {
	e := newTestEnv(t)
	a, err := New(Options{StateDir: e.state, Version: "1.80.0", Retries: 1})
	if err != nil {
		t.Fatal(err)
	}
	for name, run := range map[string]func(context.Context) error{"Cycle": a.Cycle, "Daemon": a.Daemon} {
		if err := run(t.Context()); !errors.Is(err, ErrNoReceivers) {
			t.Errorf("%s = %v, want ErrNoReceivers", name, err)
		}
	}
	e.mu.Lock()
	n := len(e.checkins)
	e.mu.Unlock()
	if n != 0 {
		t.Errorf("%d check-ins reached the server", n)
	}
	for _, f := range []string{statusFile, payloadFile, lockFile} {
		if _, err := os.Stat(filepath.Join(e.state, f)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: %v, want none written", f, err)
		}
	}
}

// Receivers run in the order registered; one that fails or panics does
// not stop those after it.
func TestReceiversRunInOrderRegistered(t *testing.T) {
	e := newTestEnv(t)
	a, err := New(Options{StateDir: e.state, Version: "1.80.0", Retries: 1})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var ran []string
	record := func(name string, then func()) Receiver {
		return funcReceiver{name, func(context.Context) error {
			mu.Lock()
			ran = append(ran, name)
			mu.Unlock()
			then()
			return nil
		}}
	}
	a.RegisterReceiver(record("first", func() {}))
	a.RegisterReceiver(record("second", func() { panic("boom") }))
	a.RegisterReceiver(record("third", func() {}))
	if err := a.Cycle(t.Context()); err == nil {
		t.Error("Cycle = nil with a receiver that panicked")
	}
	if want := []string{"first", "second", "third"}; !slices.Equal(ran, want) {
		t.Errorf("receivers ran %q, want %q", ran, want)
	}
}

// Daemon returns only once what it started has stopped: a receiver still
// at work when the daemon is told to stop is cancelled and waited for, and
// no goroutine of the run is left.
func TestDaemonStopsAndWaitsForWhatItStarted(t *testing.T) {
	e := newTestEnv(t)
	clock := clockwork.NewFakeClockAt(time.Now()) // check-in answers are checked against it
	a := e.agent(t, Options{Clock: clock, ConsoleUser: noConsoleUser})
	w := newSlowWork()
	a.RegisterReceiver(funcReceiver{"long", func(ctx context.Context) error { w.run(ctx); return nil }})
	before := goleak.IgnoreCurrent()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- a.Daemon(ctx) }()
	<-w.started
	if err := clock.BlockUntilContext(ctx, 1); err != nil { // waiting for the next check-in
		t.Fatal(err)
	}
	cancel()
	go w.finish(t)
	if err := <-done; err != nil {
		t.Fatalf("Daemon = %v", err)
	}
	if !w.stopped.Load() {
		t.Fatal("Daemon returned while a receiver it started still ran")
	}
	goleak.VerifyNone(t, before)
}

// Work a receiver leaves in the background outlives the check-in (the
// onboarding loop goes on beside the next one) until Close, which cancels
// it and waits for it; later check-ins are refused.
func TestCloseStopsAndWaitsForBackgroundWork(t *testing.T) {
	e := newTestEnv(t)
	a := e.agent(t, Options{ConsoleUser: noConsoleUser})
	w := newSlowWork()
	a.RegisterReceiver(funcReceiver{"starts work", func(ctx context.Context) error { a.spawn(ctx, w.run); return nil }})
	before := goleak.IgnoreCurrent()
	if err := a.Cycle(t.Context()); err != nil {
		t.Fatal(err)
	}
	<-w.started
	if w.stopped.Load() {
		t.Fatal("background work stopped with the check-in")
	}
	go w.finish(t)
	a.Close()
	if !w.stopped.Load() {
		t.Fatal("Close returned while background work still ran")
	}
	goleak.VerifyNone(t, before)
	if err := a.Cycle(t.Context()); !errors.Is(err, ErrClosed) {
		t.Errorf("Cycle after Close = %v, want ErrClosed", err)
	}
	a.Close() // a second Close is harmless
}
