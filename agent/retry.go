package agent

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/mobileatwork/mobileatwork/agent/ledger"
	"github.com/mobileatwork/mobileatwork/protocol"
)

// Pauses between the attempts of a run: retryBase (Options.RetryBase)
// after the first, doubling up to retryCeil, with jitter (doubling).
const (
	defaultRetryBase = time.Minute
	retryCeil        = time.Hour
)

// retriesOf is how many retries an assignment allows, within the
// protocol's bound whatever the payload says.
func retriesOf(asg protocol.Assignment) int {
	return min(max(asg.Retries, 0), protocol.MaxRetries)
}

// attemptNumber is the attempt d makes, from 1; 0 for an assignment
// without retries.
func (d due) attemptNumber() int {
	if d.attempt == 0 && retriesOf(d.asg) == 0 {
		return 0
	}
	return max(d.attempt, 1)
}

// dueRetry decides an assignment whose last attempt failed and is tried
// again. handled is false when no retry is pending, or when a new
// occurrence of its schedule came due meanwhile: that ends the retries,
// and the caller goes on as for any entry.
func (a *Agent) dueRetry(asg protocol.Assignment, e ledger.Entry, now time.Time) (d due, ok, handled bool) {
	r := e.Retry
	if r == nil {
		return due{}, false, false
	}
	if asg.Schedule.Recurring() {
		if _, newer, _, _ := asg.Schedule.Due(e.LastOccurrence, now, a.o.Location); newer {
			a.explain(asg, "retries end: a new occurrence is due", zap.Int("failed_attempt", r.Attempt))
			return due{}, false, false
		}
	}
	if asg.Schedule.Triggered() {
		if _, newer := a.occurrence(asg, e); newer {
			a.explain(asg, "retries end: the trigger occurred again", zap.Int("failed_attempt", r.Attempt))
			return due{}, false, false
		}
	}
	if now.Before(r.At) {
		a.explain(asg, "not due: "+retryText(r.Attempt, retriesOf(asg)), zap.String("at", a.instant(r.At)))
		return due{}, false, true
	}
	a.explain(asg, "due: "+retryText(r.Attempt, retriesOf(asg)))
	return due{asg: asg, entry: e, occurrence: r.Occurrence, attempt: r.Attempt + 1}, true, true
}

// retryText names the retry that follows attempt failed: attempt 2 is
// retry 1.
func retryText(failed, retries int) string {
	return fmt.Sprintf("retry %d of %d", failed, retries)
}

// finish queues the result of an attempt and settles its occurrence, or,
// when the run may be tried again, keeps the occurrence open for the next
// attempt. The retry is on disk beside Started before the result is
// queued: a crash before the result is queued reports the attempt
// interrupted and ends the retries (recoverInterrupted), one after keeps
// both the result and the retry.
func (a *Agent) finish(ctx context.Context, res protocol.Result, e ledger.Entry, d due) error {
	next := settle(e, d.occurrence)
	// A run the agent stopped because it is stopping was interrupted: like
	// one it did not live to finish, it is reported, not run again.
	if at, ok := a.retryAt(res, d); ok && ctx.Err() == nil {
		r := &ledger.Retry{Attempt: res.Attempt, At: at.UTC(), Occurrence: d.occurrence}
		open := e
		open.Retry = r
		if err := a.ledger.Put(open); err != nil {
			a.o.Log.Warn("the next attempt could not be recorded: the run is not tried again", zap.String("run_id", res.RunID), zap.Error(err))
		} else {
			res.RetryAt, next.Retry, next.Done = r.At, r, false
			a.retryRecorded.Store(true)
			a.o.Log.Info("the run is tried again", zap.String("run_id", res.RunID), zap.String("assignment", d.asg.ID),
				zap.Int("attempt", res.Attempt), zap.Int("retries", retriesOf(d.asg)), zap.Time("next_attempt", r.At))
		}
	}
	return a.keep(res, next)
}

// retryAt is when the attempt that ended as res is tried again, if it is:
// a retryable status (protocol.Retryable) with retries left.
func (a *Agent) retryAt(res protocol.Result, d due) (time.Time, bool) {
	if res.Attempt == 0 || res.Attempt > retriesOf(d.asg) || !protocol.Retryable(res) {
		return time.Time{}, false
	}
	base := a.o.RetryBase
	if base <= 0 {
		base = defaultRetryBase
	}
	return a.o.Clock.Now().Add(doubling(base, retryCeil, res.Attempt)), true
}

// recovered settles the entry of a run the agent did not live to see end.
// Its result already queued with a retry announced (had), the retry
// stands; otherwise the run is over, retries with it.
func recovered(e ledger.Entry, had bool) ledger.Entry {
	s := settle(e, e.Started.Occurrence)
	if had && e.Retry != nil {
		s.Retry, s.Done = e.Retry, false
	}
	return s
}

// pendingRetry is the retry an assignment waits for, if any.
func (a *Agent) pendingRetry(asg protocol.Assignment) (*ledger.Retry, bool) {
	if retriesOf(asg) == 0 {
		return nil, false // retries are part of the version: none were left open
	}
	e, seen := a.ledger.Get(asg.ID)
	if !seen || e.Version != asg.Version || e.Schedule != asg.Schedule.String() || e.Started != nil || e.Retry == nil {
		return nil, false
	}
	return e.Retry, true
}

// retryWake is when the daemon must wake for an assignment's next attempt:
// never for one already due, which runs at this wake-up or, when it could
// not, at the next check-in.
func (a *Agent) retryWake(asg protocol.Assignment, now time.Time) (time.Time, bool) {
	r, ok := a.pendingRetry(asg)
	if !ok || !r.At.After(now) {
		return time.Time{}, false
	}
	return r.At, true
}

// retryState fills nr, for `status`, with an assignment's pending retry.
func (a *Agent) retryState(nr *NextRun, asg protocol.Assignment) bool {
	r, ok := a.pendingRetry(asg)
	if !ok {
		return false
	}
	nr.State, nr.Next, nr.Retry, nr.Retries = "retry", r.At, r.Attempt, retriesOf(asg)
	return true
}

// afterBatch runs when a batch of the daemon's receivers that started at
// start has ended: when it recorded a retry, or a retry came due while it
// ran (and so was not run), the daemon is told to look again, as the
// wake-up it computed before knows of neither.
func (a *Agent) afterBatch(p *protocol.CheckinPayload, start time.Time) {
	again := a.retryRecorded.Swap(false)
	now := a.o.Clock.Now()
	for _, asg := range runnable(p) {
		if r, ok := a.pendingRetry(asg); ok && r.At.After(start) && !r.At.After(now) {
			again = true
		}
	}
	if again {
		a.lookAgain()
	}
}
