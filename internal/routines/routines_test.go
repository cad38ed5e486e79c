package routines

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
)

func TestCloseCancelsAndWaits(t *testing.T) {
	g := New(context.Background())
	var stopped atomic.Int32
	for range 3 {
		g.Go(func(ctx context.Context) {
			<-ctx.Done()
			stopped.Add(1)
		})
	}
	g.Close()
	if got := stopped.Load(); got != 3 {
		t.Fatalf("after Close %d of 3 routines had returned", got)
	}
	g.Close() // a second Close is harmless
}

func TestGoAfterCloseRunsNothing(t *testing.T) {
	g := New(context.Background())
	g.Close()
	ran := false
	if g.Go(func(context.Context) { ran = true }) {
		t.Fatal("Go after Close reported a start")
	}
	g.Wait()
	if ran {
		t.Fatal("Go after Close ran its function")
	}
}

func TestOneReturningDoesNotCancelOthers(t *testing.T) {
	g := New(context.Background())
	done := make(chan struct{})
	g.Go(func(context.Context) { close(done) })
	<-done
	if err := g.Context().Err(); err != nil {
		t.Fatalf("a routine returning cancelled the group: %v", err)
	}
	g.Close()
}

func TestParentCancelStopsRoutines(t *testing.T) {
	parent, cancel := context.WithCancel(context.Background())
	g := New(parent)
	stopped := make(chan struct{})
	g.Go(func(ctx context.Context) { <-ctx.Done(); close(stopped) })
	cancel()
	<-stopped
	g.Close()
}

func TestSleep(t *testing.T) {
	clock := clockwork.NewFakeClock()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	woke := make(chan bool)
	go func() { woke <- Sleep(ctx, clock, time.Minute) }()
	if err := clock.BlockUntilContext(ctx, 1); err != nil {
		t.Fatal(err)
	}
	clock.Advance(59 * time.Second)
	select {
	case <-woke:
		t.Fatal("woke before its time")
	default:
	}
	clock.Advance(time.Second)
	if !<-woke {
		t.Fatal("Sleep = false after its time ran out")
	}

	go func() { woke <- Sleep(ctx, clock, time.Minute) }()
	if err := clock.BlockUntilContext(ctx, 1); err != nil {
		t.Fatal(err)
	}
	cancel()
	if <-woke {
		t.Fatal("Sleep = true after its context ended")
	}
	if Sleep(ctx, clock, 0) {
		t.Fatal("Sleep(0) = true with the context done")
	}
}
