package loadgen

import (
	"context"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
)

// pace offers the rate asked for, on the injected clock.
func TestPaceOffersTheRate(t *testing.T) {
	for _, tt := range []struct {
		rate     float64
		span     time.Duration
		min, max int64
	}{
		{rate: 100, span: 10 * time.Second, min: 900, max: 1100},
		{rate: 2, span: 60 * time.Second, min: 90, max: 150},
		{rate: 1000, span: time.Second, min: 900, max: 1100},
	} {
		clock := clockwork.NewFakeClock()
		ctx, cancel := context.WithCancel(context.Background())
		var fired atomic.Int64
		done := make(chan struct{})
		go func() {
			defer close(done)
			pace(ctx, clock, tt.rate, rand.New(rand.NewPCG(1, 2)), func() { fired.Add(1) })
		}()
		step := 10 * time.Millisecond
		for elapsed := time.Duration(0); elapsed < tt.span; elapsed += step {
			if err := clock.BlockUntilContext(ctx, 1); err != nil {
				t.Fatal(err)
			}
			clock.Advance(step)
		}
		clock.BlockUntilContext(ctx, 1) // the arrivals due by now have fired
		cancel()
		<-done
		if n := fired.Load(); n < tt.min || n > tt.max {
			t.Errorf("rate %v over %s: %d arrivals, want %d to %d", tt.rate, tt.span, n, tt.min, tt.max)
		}
	}
}

func TestPaceStopsWithItsContext(t *testing.T) {
	clock := clockwork.NewFakeClock()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		pace(ctx, clock, 0.001, rand.New(rand.NewPCG(1, 2)), func() { t.Error("fired") })
	}()
	clock.BlockUntilContext(ctx, 1)
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("pace still runs after its context ended")
	}
}

func TestRunOptionsRefuseBadInput(t *testing.T) {
	good := func() RunOptions {
		return RunOptions{State: "s", Devices: 10, Duration: time.Second, Concurrency: 4, Timeout: time.Second}
	}
	for _, tt := range []struct {
		name string
		edit func(*RunOptions)
		want string
	}{
		{"no state", func(o *RunOptions) { o.State = "" }, "--state is required"},
		{"no devices", func(o *RunOptions) { o.Devices = 0 }, "--devices must be at least 1"},
		{"no duration", func(o *RunOptions) { o.Duration = 0 }, "--duration must be positive"},
		{"negative rate", func(o *RunOptions) { o.Rate = -1 }, "--rate must be"},
		{"rate and interval", func(o *RunOptions) { o.Rate, o.Interval = 5, time.Minute }, "not both"},
		{"no concurrency", func(o *RunOptions) { o.Concurrency = 0 }, "--concurrency must be at least 1"},
		{"no timeout", func(o *RunOptions) { o.Timeout = 0 }, "--timeout must be positive"},
		{"share over one", func(o *RunOptions) { o.Mix.ScriptShare = 1.5 }, "--script-share must be between 0 and 1"},
		{"negative share", func(o *RunOptions) { o.Mix.InventoryShare = -0.1 }, "--inventory-share must be between 0 and 1"},
	} {
		o := good()
		tt.edit(&o)
		if err := o.Check(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
	o := good()
	o.Interval = 60 * time.Second
	if err := o.Check(); err != nil || o.offered() != 10.0/60 || o.Clock == nil || o.MaxInFlight == 0 {
		t.Fatalf("interval 60s for 10 devices: err %v, rate %v; want 10/60 per second and defaults filled", err, o.offered())
	}
	if err := o.Check(); err != nil {
		t.Fatalf("checked options refused when checked again: %v", err)
	}
}
