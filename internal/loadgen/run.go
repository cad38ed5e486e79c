package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/mobileatwork/mobileatwork/internal/routines"
)

// RunOptions say how to drive the fleet of a state directory.
type RunOptions struct {
	State   string
	Server  string // replaces the URL the devices enrolled with; "" keeps it
	Devices int
	// Duration is the measured window.
	Duration time.Duration
	// Rate is the check-ins per second offered (open loop: arrivals do not
	// wait for answers, so a slow server shows as latency, not as a lower
	// offered rate). Interval offers Devices/Interval. With neither, the
	// run is closed loop: Concurrency devices check in back to back, the
	// server's maximum rate.
	Rate        float64
	Interval    time.Duration
	Concurrency int // closed loop and warm-up: sessions at once
	MaxInFlight int // open loop: sessions at once before arrivals are dropped
	Timeout     time.Duration
	// Warmup checks every device in once before the window, so that the
	// window sees a steady fleet rather than the first check-ins of a new
	// tenant.
	Warmup bool
	Mix    Mix
	// Wake, after the window, has every device hold the wake channel,
	// measures the server idle for Duration, then runs the window again.
	Wake bool
	// ServerPID, when the server runs on this machine, is read for its CPU
	// time and memory.
	ServerPID     int
	Progress      io.Writer // progress lines; nil for none
	ProgressEvery time.Duration
	Clock         clockwork.Clock
}

func (o *RunOptions) check() error {
	switch {
	case o.State == "":
		return errors.New("--state is required: the directory holding the enrolled devices")
	case o.Devices < 1:
		return fmt.Errorf("--devices must be at least 1, got %d", o.Devices)
	case o.Duration <= 0:
		return fmt.Errorf("--duration must be positive, got %s", o.Duration)
	case o.Rate < 0 || math.IsNaN(o.Rate) || math.IsInf(o.Rate, 0):
		return fmt.Errorf("--rate must be a positive number of check-ins per second, got %v", o.Rate)
	case o.Interval < 0:
		return fmt.Errorf("--interval must be positive, got %s", o.Interval)
	case o.Rate > 0 && o.Interval > 0:
		return errors.New("give --rate or --interval, not both: --interval offers devices/interval check-ins per second")
	case o.Concurrency < 1:
		return fmt.Errorf("--concurrency must be at least 1, got %d", o.Concurrency)
	case o.Timeout <= 0:
		return fmt.Errorf("--timeout must be positive, got %s", o.Timeout)
	}
	if err := o.Mix.check(); err != nil {
		return err
	}
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = 10000
	}
	if o.Clock == nil {
		o.Clock = clockwork.NewRealClock()
	}
	return nil
}

// Check validates the options and fills in their defaults, changing
// nothing else.
func (o *RunOptions) Check() error { return o.check() }

// offered is the check-ins per second offered: Rate, or one per device per
// Interval; 0 for the closed loop.
func (o *RunOptions) offered() float64 {
	if o.Interval > 0 {
		return float64(o.Devices) / o.Interval.Seconds()
	}
	return o.Rate
}

// driver runs the sessions of one phase.
type driver struct {
	o        RunOptions
	devs     []*device
	rec      *recorder
	next     atomic.Int64
	inflight atomic.Int64
}

// Run drives the devices for the window and reports what it measured.
func Run(ctx context.Context, o RunOptions) (*Report, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	devs, err := loadDevices(o.State, o.Devices, o.Server)
	if err != nil {
		return nil, err
	}
	defer func() {
		for _, d := range devs {
			d.api.CloseIdleConnections()
		}
	}()
	rep := &Report{Server: devs[0].id.ServerURL, Devices: o.Devices, Mix: o.Mix, Concurrency: o.Concurrency, OfferedPerSecond: o.offered()}
	if o.Warmup {
		dr := &driver{o: o, devs: devs, rec: newRecorder()}
		if rep.Warmup = dr.warmup(ctx); ctx.Err() != nil {
			return nil, ctx.Err()
		}
		// A long warm-up leaves connections the server has closed for
		// idleness (2 minutes): the window starts on new ones.
		for _, d := range devs {
			d.api.CloseIdleConnections()
		}
	}
	dr := &driver{o: o, devs: devs, rec: newRecorder()}
	server0, serr := readUsage(o.ServerPID)
	self0, _ := readUsage(os.Getpid())
	elapsed, inWindow := dr.window(ctx)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	rep.fill(dr.rec.snapshot(), elapsed)
	rep.CheckinsPerSecond = float64(inWindow) / o.Duration.Seconds()
	if o.ServerPID > 0 && serr == nil {
		if server1, err := readUsage(o.ServerPID); err == nil {
			rep.ServerProcess = processOf(o.ServerPID, server0, server1, elapsed, rep.Checkins)
		}
	}
	if self1, err := readUsage(os.Getpid()); err == nil {
		rep.Generator = processOf(os.Getpid(), self0, self1, elapsed, rep.Checkins)
	}
	if o.Wake {
		if rep.Wake, err = dr.wakePhase(ctx, o.ServerPID, o.Progress); err != nil {
			return nil, err
		}
	}
	rep.LoadAverage, rep.Cores = loadAverage(), runtime.NumCPU()
	return rep, nil
}

// warmup checks every device in once, Concurrency at a time.
func (dr *driver) warmup(ctx context.Context) *Phase {
	start := dr.o.Clock.Now()
	stop := dr.progress(ctx, "warm-up", start)
	defer stop()
	forEach(ctx, 0, len(dr.devs), dr.o.Concurrency, func(ctx context.Context, i int) error {
		dr.session(ctx, dr.devs[i])
		return nil
	})
	return phaseOf(dr.rec.snapshot(), dr.o.Clock.Since(start))
}

// window drives check-ins for Duration, then lets those running finish.
// It returns the time until they did, and how many check-ins were
// answered within the window itself (the throughput; the others count for
// latency and CPU per check-in).
func (dr *driver) window(ctx context.Context) (time.Duration, int64) {
	o := dr.o
	start := o.Clock.Now()
	stop := dr.progress(ctx, "run", start)
	defer stop()
	var inWindow atomic.Int64
	inWindow.Store(-1)
	closing := o.Clock.AfterFunc(o.Duration, func() { inWindow.Store(dr.rec.checkins()) })
	defer closing.Stop()
	window, cancel := clockwork.WithTimeout(ctx, o.Clock, o.Duration)
	defer cancel()
	if rate := o.offered(); rate > 0 {
		sessions := routines.New(ctx)
		pace(window, o.Clock, rate, rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())), func() { dr.arrive(sessions) })
		sessions.Wait() // those started in the window finish, within their timeout
		sessions.Close()
	} else {
		dr.closedLoop(ctx, window)
	}
	elapsed := o.Clock.Since(start)
	n := inWindow.Load()
	if n < 0 { // the window ended early
		n = dr.rec.checkins()
	}
	return elapsed, n
}

// session runs one session of d under the session timeout, and records a
// session that overran it.
func (dr *driver) session(ctx context.Context, d *device) {
	ctx, cancel := context.WithTimeout(ctx, dr.o.Timeout)
	defer cancel()
	d.session(ctx, dr.o.Clock, dr.o.Mix, dr.rec)
	if ctx.Err() == context.DeadlineExceeded {
		dr.rec.count(countSlow, 1)
	}
}

// pick takes the next device in turn that is not checking in already;
// nil when the next few are all busy.
func (dr *driver) pick() *device {
	n := len(dr.devs)
	for range min(n, 64) {
		d := dr.devs[int(dr.next.Add(1)-1)%n]
		if d.busy.CompareAndSwap(false, true) {
			return d
		}
		dr.rec.count(countBusy, 1)
	}
	return nil
}

// arrive starts a session for one arrival of the open loop, or counts it
// dropped when no device is free or too many sessions are running.
func (dr *driver) arrive(g *routines.Group) {
	if dr.inflight.Load() >= int64(dr.o.MaxInFlight) {
		dr.rec.count(countDropped, 1)
		return
	}
	d := dr.pick()
	if d == nil {
		dr.rec.count(countDropped, 1)
		return
	}
	dr.inflight.Add(1)
	started := g.Go(func(ctx context.Context) {
		defer dr.inflight.Add(-1)
		defer d.busy.Store(false)
		dr.session(ctx, d)
	})
	if !started {
		dr.inflight.Add(-1)
		d.busy.Store(false)
	}
}

// closedLoop keeps Concurrency sessions going until the window closes.
func (dr *driver) closedLoop(ctx, window context.Context) {
	g := routines.New(ctx)
	defer g.Close()
	for range min(dr.o.Concurrency, len(dr.devs)) {
		g.Go(func(ctx context.Context) {
			for window.Err() == nil {
				d := dr.pick()
				if d == nil {
					runtime.Gosched()
					continue
				}
				dr.session(ctx, d)
				d.busy.Store(false)
			}
		})
	}
	g.Wait()
}

// pace calls fire at random (Poisson) arrivals of rate per second until
// ctx is done. Arrivals fall behind the clock only while fire runs; those
// overdue then fire at once, so the offered rate holds.
func pace(ctx context.Context, clock clockwork.Clock, rate float64, rnd *rand.Rand, fire func()) {
	next := clock.Now()
	for {
		next = next.Add(time.Duration(rnd.ExpFloat64() / rate * float64(time.Second)))
		if wait := next.Sub(clock.Now()); wait > 0 {
			t := clock.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.Chan():
			}
		}
		if ctx.Err() != nil {
			return
		}
		fire()
	}
}

// progress prints a line every ProgressEvery until the returned stop is
// called; stop waits for the printer.
func (dr *driver) progress(ctx context.Context, phase string, start time.Time) (stop func()) {
	if dr.o.Progress == nil || dr.o.ProgressEvery <= 0 {
		return func() {}
	}
	g := routines.New(ctx)
	g.Go(func(ctx context.Context) {
		t := dr.o.Clock.NewTicker(dr.o.ProgressEvery)
		defer t.Stop()
		var last int64
		lastAt := start
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-t.Chan():
				s := dr.rec.snapshot()
				n := s.requests[opCheckin].Count
				rate := float64(n-last) / now.Sub(lastAt).Seconds()
				fmt.Fprintf(dr.o.Progress, "mawload: %s %5.0fs  %d check-ins  %.1f/s  p99 %.0f ms  errors %d\n",
					phase, now.Sub(start).Seconds(), n, rate, s.requests[opCheckin].P99, s.errorCount())
				last, lastAt = n, now
			}
		}
	})
	return g.Close
}
