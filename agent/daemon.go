package agent

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/mobileatwork/mobileatwork/protocol"
)

// Daemon runs until ctx is done: it checks in at the configured interval
// (with ±10% jitter so a fleet spreads out), backs off with jitter while the
// server is unreachable, wakes for scheduled occurrences between check-ins,
// checks in at once (at most every 5 s) when the server says so over the
// wake channel, and runs scripts in the background so a long script never
// holds back the delivery of earlier results. Once a user is at the console it serves
// Apps@Work (RegisterCatalogPage) on loopback and offers it to that user's
// login, where the UI LaunchAgent opens it: right after registration,
// without waiting for onboarding or MDM enrollment. It closes the agent
// before it returns: nothing it started is left running.
func (a *Agent) Daemon(ctx context.Context) error {
	release, err := a.begin()
	if err != nil {
		return err
	}
	defer release()
	a.o.Log.Info("agent started", zap.String("device", a.id.DeviceID), zap.String("server", a.id.ServerURL), zap.String("version", a.o.Version))
	interval := a.interval(nil)
	if p, err := a.lastPayload(); err == nil {
		interval = a.interval(p)
	}
	failures := 0
	running := make(chan struct{}, 1) // holds a token while scripts run
	waitUI := a.serveUI(ctx, uiEvery)
	// A "check in now" of the server moves the next check-in forward; the
	// wake channel carries nothing else (wake.go).
	woken := make(chan struct{}, 1)
	a.spawn(ctx, func(ctx context.Context) { wakeLoop(ctx, a.o.Clock, a.api, woken, a.o.Log) })
	// A trigger occurrence runs what it made due from the payload held.
	a.spawn(ctx, a.watchTriggers)
	nextCheckin := a.o.Clock.Now()
	var lastCheckin time.Time
	for {
		now := a.o.Clock.Now()
		if !now.Before(nextCheckin) {
			lastCheckin = now
			st := a.loadStatus()
			st.LastAttempt = now.UTC()
			if _, err := a.Flush(ctx); err != nil {
				a.o.Log.Info("results stay queued", zap.Error(err))
			}
			p, err := a.Checkin(ctx)
			if err != nil {
				failures++
				st.LastError = err.Error()
				a.saveStatus(st)
				wait := backoff(failures, interval)
				a.o.Log.Warn("check-in failed", zap.Error(err), zap.Duration("retry_in", wait))
				nextCheckin = a.o.Clock.Now().Add(wait)
			} else {
				failures = 0
				st.LastCheckin, st.LastError = a.o.Clock.Now().UTC(), ""
				a.saveStatus(st)
				interval = a.interval(p)
				nextCheckin = a.o.Clock.Now().Add(Jitter(interval))
				if p.More {
					// The server holds more for this device than one answer
					// carries: come back once this round's scripts are done.
					nextCheckin = a.o.Clock.Now().Add(moreAfter)
				}
				a.background(ctx, running, p)
			}
		} else if p, err := a.lastPayload(); err == nil {
			a.background(ctx, running, p) // a scheduled occurrence woke us
		}
		wake := nextCheckin
		if p, err := a.lastPayload(); err == nil {
			if t, ok := a.nextWake(p, a.o.Clock.Now()); ok && t.Before(wake) {
				wake = t
			}
		}
		ok, woke := sleepOrWake(ctx, a.o.Clock, max(wake.Sub(a.o.Clock.Now()), 100*time.Millisecond), woken, a.again)
		if woke {
			a.o.Log.Info("the server asked for a check-in now")
			nextCheckin = wokenCheckin(a.o.Clock.Now(), lastCheckin, nextCheckin)
		}
		if !ok {
			a.o.Log.Info("agent stopping")
			waitUI()
			// A running script is killed, the onboarding stops; wait for both.
			a.Close()
			return nil
		}
	}
}

// interval is the check-in interval: the override, else the tenant's
// configuration, else the documented default.
// moreAfter is how soon the daemon checks in again when the server said it
// holds more than one answer carried.
const moreAfter = 5 * time.Second

// MinInterval is the shortest check-in interval `run --interval` accepts:
// shorter ones turn the daemon into a busy loop against the server.
const MinInterval = 10 * time.Second

// ParseInterval reads `run --interval` (or MAW_INTERVAL): empty or 0 keeps
// the tenant's interval; anything else must be a duration of at least
// MinInterval.
func ParseInterval(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "0" || s == "0s" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		return 0, fmt.Errorf("--interval %q is not a duration: give e.g. 30s or 5m, or 0 for the tenant's interval", s)
	case d < MinInterval:
		return 0, fmt.Errorf("--interval %s is too short: give at least %s, or 0 for the tenant's interval", d, MinInterval)
	}
	return d, nil
}

func (a *Agent) interval(p *protocol.CheckinPayload) time.Duration {
	switch {
	case a.o.Interval > 0:
		return a.o.Interval
	case p != nil && p.Config.CheckinIntervalMinutes > 0:
		return time.Duration(p.Config.CheckinIntervalMinutes) * time.Minute
	}
	return time.Duration(protocol.DefaultConfig.CheckinIntervalMinutes) * time.Minute
}

// background starts the receivers, owned by the agent, unless a previous
// batch still runs.
func (a *Agent) background(ctx context.Context, running chan struct{}, p *protocol.CheckinPayload) {
	select {
	case running <- struct{}{}:
	default:
		return // the receivers are busy; the next wake-up picks this up
	}
	gen := a.firedGen.Load()
	started := a.spawn(ctx, func(ctx context.Context) {
		defer a.afterBatch(p, a.o.Clock.Now()) // once the token is back
		defer func() { <-running; a.refireSince(gen) }()
		if err := a.Receive(ctx, p); err != nil {
			a.o.Log.Warn("configuration not fully applied", zap.Error(err))
		}
		if _, err := a.Flush(ctx); err != nil {
			a.o.Log.Info("results stay queued", zap.Error(err))
		}
	})
	if !started {
		<-running // the daemon is stopping
	}
}

// Jitter spreads a check-in interval by ±10%, so a fleet does not check in
// in lockstep.
func Jitter(d time.Duration) time.Duration {
	span := int64(d) / 5
	if span <= 0 {
		return d
	}
	return d - time.Duration(span/2) + time.Duration(rand.Int64N(span))
}

// backoff grows from 30 s, doubling per failure, up to the check-in interval,
// with full jitter.
func backoff(failures int, interval time.Duration) time.Duration {
	return doubling(30*time.Second, interval, failures)
}

// doubling is the pause after the n-th failure in a row: base doubled per
// failure up to ceil, drawn at random from its upper half so a fleet that
// failed together does not come back together.
func doubling(base, ceil time.Duration, n int) time.Duration {
	d := base
	for i := 1; i < n && d < ceil; i++ {
		d *= 2
	}
	d = min(d, ceil)
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}
