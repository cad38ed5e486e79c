package loadgen

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/mobileatwork/mobileatwork/internal/routines"
)

// WakeReport is what --wake measured after the plain window: the server
// while every device holds the wake channel and nothing else happens, and
// the same check-in window again with the channel held, against the plain
// window of the same run as its baseline.
type WakeReport struct {
	Held int64 `json:"held"` // wake requests outstanding at the idle phase's end
	// ServerRSSBeforeMB is the server's memory before the devices took the
	// channel: IdleServer.RSSMB less it is what holding them costs.
	ServerRSSBeforeMB float64  `json:"server_rss_before_mb"`
	IdleSeconds       float64  `json:"idle_seconds"`
	IdleServer        *Process `json:"idle_server,omitempty"`
	Window            *Phase   `json:"window"`
	WindowServer      *Process `json:"window_server,omitempty"`
	Answered          int64    `json:"wake_answers"` // 204s and 200s over the phase
	Errors            int64    `json:"wake_errors"`
}

// wakeHolders hold the wake channel of devices, as idle agents do.
type wakeHolders struct {
	g                       *routines.Group
	held, answered, errored atomic.Int64
}

// holdWakes starts every device's wake loop, spread over a few seconds so
// the handshakes do not come in one burst.
func holdWakes(ctx context.Context, clock clockwork.Clock, devs []*device) *wakeHolders {
	w := &wakeHolders{g: routines.New(ctx)}
	spread := time.Duration(len(devs)) * 2 * time.Millisecond
	for _, d := range devs {
		w.g.Go(func(ctx context.Context) {
			if !routines.Sleep(ctx, clock, rand.N(spread+1)) {
				return
			}
			failures := 0
			for ctx.Err() == nil {
				start := clock.Now()
				w.held.Add(1)
				_, _, err := d.api.Wake(ctx)
				w.held.Add(-1)
				pause := time.Second - clock.Since(start)
				if err != nil {
					w.errored.Add(1)
					failures++
					pause = time.Duration(failures) * time.Second
				} else {
					w.answered.Add(1)
					failures = 0
				}
				if pause > 0 && !routines.Sleep(ctx, clock, pause) {
					return
				}
			}
		})
	}
	return w
}

// wakePhase holds the channel of every device, measures the idle server,
// then runs the window again.
func (dr *driver) wakePhase(ctx context.Context, pid int, progress io.Writer) (*WakeReport, error) {
	o := dr.o
	rep := &WakeReport{}
	if u, err := readUsage(pid); err == nil {
		rep.ServerRSSBeforeMB = mb(u.RSS)
	}
	w := holdWakes(ctx, o.Clock, dr.devs)
	defer w.g.Close()
	deadline := o.Clock.Now().Add(2*time.Minute + time.Duration(len(dr.devs))*2*time.Millisecond)
	for w.held.Load() < int64(len(dr.devs)) && o.Clock.Now().Before(deadline) {
		if !routines.Sleep(ctx, o.Clock, 100*time.Millisecond) {
			return nil, ctx.Err()
		}
	}
	if progress != nil {
		fmt.Fprintf(progress, "mawload: %d of %d devices hold the wake channel; idle for %s\n", w.held.Load(), len(dr.devs), o.Duration)
	}
	u0, uerr := readUsage(pid)
	start := o.Clock.Now()
	if !routines.Sleep(ctx, o.Clock, o.Duration) {
		return nil, ctx.Err()
	}
	rep.IdleSeconds, rep.Held = o.Clock.Since(start).Seconds(), w.held.Load()
	if u1, err := readUsage(pid); err == nil && uerr == nil && pid > 0 {
		rep.IdleServer = processOf(pid, u0, u1, o.Clock.Since(start), 0)
	}
	w2 := &driver{o: o, devs: dr.devs, rec: newRecorder()}
	u0, uerr = readUsage(pid)
	elapsed, inWindow := w2.window(ctx)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	rep.Window = phaseOf(w2.rec.snapshot(), elapsed)
	rep.Window.CheckinsPerSecond = float64(inWindow) / o.Duration.Seconds()
	if u1, err := readUsage(pid); err == nil && uerr == nil && pid > 0 {
		rep.WindowServer = processOf(pid, u0, u1, elapsed, rep.Window.Checkins)
	}
	rep.Answered, rep.Errors = w.answered.Load(), w.errored.Load()
	return rep, nil
}

func (r *WakeReport) writeText(w io.Writer, base float64) {
	fmt.Fprintf(w, "wake        %d devices held the channel; %d answers, %d errors\n", r.Held, r.Answered, r.Errors)
	if p := r.IdleServer; p != nil {
		fmt.Fprintf(w, "wake idle   server cpu %.1f%% of a core over %.0fs, rss %.0f MB (%.0f MB before the channel)\n",
			p.CPUPercent, r.IdleSeconds, p.RSSMB, r.ServerRSSBeforeMB)
	}
	if p := r.Window; p != nil {
		ratio := 0.0
		if base > 0 {
			ratio = p.CheckinsPerSecond / base
		}
		fmt.Fprintf(w, "wake window %.1f check-ins/s with the channel held (%.2f of the plain window's), %s, errors %s\n",
			p.CheckinsPerSecond, ratio, latencyText(p.Latency), errorText(p))
	}
}
