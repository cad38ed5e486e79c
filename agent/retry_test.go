package agent

import (
	"context"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/mobileatwork/mobileatwork/agent/ledger"
	"github.com/mobileatwork/mobileatwork/executor"
	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/protocol/schedule"
	"github.com/mobileatwork/mobileatwork/server"
	"github.com/mobileatwork/mobileatwork/server/store"
)

var retryCaps = []string{protocol.CapSchedule, protocol.CapRetries, protocol.CapRunStarted}

// seqExec ends its runs as statuses says, one after the other, the last
// one for every run after; each run may first call before.
type seqExec struct {
	clock    clockwork.Clock
	statuses []executor.Status
	runs     atomic.Int32
	before   func(n int)
}

func (f *seqExec) run(_ context.Context, _ executor.Request) executor.Result {
	n := int(f.runs.Add(1))
	if f.before != nil {
		f.before(n)
	}
	st := f.statuses[min(n, len(f.statuses))-1]
	now := f.clock.Now()
	return executor.Result{Status: st, ExitCode: map[executor.Status]int{executor.Failed: 1}[st], StartedAt: now, FinishedAt: now}
}

// retriedCheckin stores a script configuration with retries distributed
// to every device, checks in and returns the payload and the configuration.
func retriedCheckin(t *testing.T, e *testEnv, a *Agent, spec schedule.Spec, retries int) (*protocol.CheckinPayload, store.Configuration) {
	t.Helper()
	ctx := context.Background()
	sc, err := e.srv.AddScript(ctx, "flaky", "", []byte("#!/bin/sh\nexit 1\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	c, _, err := e.srv.Assign(ctx, "", "", server.ScriptRequest{Script: sc.ID, Schedule: &spec, Retries: &retries}, []string{"all"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := a.Checkin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Assignments) != 1 || p.Assignments[0].Retries != retries {
		t.Fatalf("payload assignments %+v, want one with %d retries", p.Assignments, retries)
	}
	return p, c
}

// byAttempt is the queued results in the order of their attempts.
func byAttempt(t *testing.T, a *Agent) []protocol.Result {
	rs := pending(t, a)
	slices.SortFunc(rs, func(x, y protocol.Result) int { return x.StartedAt.Compare(y.StartedAt)*2 + (x.Attempt - y.Attempt) })
	return rs
}

// retryWindow checks that a retry after attempt n waits within the
// jittered window of doubling from a minute: (d/2, d] for d = 2^(n-1) min.
func retryWindow(t *testing.T, r protocol.Result, from time.Time) {
	t.Helper()
	d := time.Minute << (r.Attempt - 1)
	if wait := r.RetryAt.Sub(from); wait < d/2 || wait > d {
		t.Errorf("attempt %d: next after %s, want within [%s, %s]", r.Attempt, wait, d/2, d)
	}
}

// A run that fails is tried again after a pause that doubles, until it
// succeeds: two failures, then success, are three results, attempts 1 to 3,
// the failures naming when the next follows. Meanwhile it is not due, the
// daemon wakes for it and status shows it.
func TestRetriesUntilSuccess(t *testing.T) {
	e := newTestEnv(t)
	clock := clockwork.NewFakeClockAt(time.Now())
	fx := &seqExec{clock: clock, statuses: []executor.Status{executor.Failed, executor.TimedOut, executor.Succeeded}}
	a := e.agent(t, Options{Exec: fx.run, Clock: clock, Capabilities: retryCaps})
	p, _ := retriedCheckin(t, e, a, schedule.Spec{Kind: schedule.Once}, 3)
	ctx := context.Background()
	for attempt := 1; attempt <= 3; attempt++ {
		start := clock.Now()
		if err := a.RunDue(ctx, p); err != nil {
			t.Fatal(err)
		}
		rs := byAttempt(t, a)
		if len(rs) != attempt {
			t.Fatalf("after attempt %d: %d results", attempt, len(rs))
		}
		r := rs[attempt-1]
		if r.Attempt != attempt {
			t.Fatalf("result %d has attempt %d", attempt, r.Attempt)
		}
		if attempt == 3 {
			if r.Status != protocol.StatusSucceeded || !r.RetryAt.IsZero() {
				t.Fatalf("last result %s, retry at %v; want succeeded and no retry", r.Status, r.RetryAt)
			}
			break
		}
		retryWindow(t, r, start)
		// Not due before its time: a run now changes nothing.
		if err := a.RunDue(ctx, p); err != nil || fx.runs.Load() != int32(attempt) {
			t.Fatalf("a retry ran before its time: %d runs, %v", fx.runs.Load(), err)
		}
		if wake, ok := a.nextWake(p, clock.Now()); !ok || !wake.Equal(r.RetryAt) {
			t.Errorf("next wake %v, %v; want the retry at %v", wake, ok, r.RetryAt)
		}
		nr := a.nextRuns(p, clock.Now())
		if len(nr) != 1 || nr[0].State != "retry" || nr[0].Retry != attempt || nr[0].Retries != 3 || !nr[0].Next.Equal(r.RetryAt) {
			t.Errorf("status %+v, want retry %d of 3 at %v", nr, attempt, r.RetryAt)
		}
		clock.Advance(r.RetryAt.Sub(clock.Now()))
	}
	e1, _ := a.ledger.Get(p.Assignments[0].ID)
	if !e1.Done || e1.Retry != nil {
		t.Fatalf("ledger %+v, want done with no retry", e1)
	}
	clock.Advance(48 * time.Hour)
	if err := a.RunDue(ctx, p); err != nil || fx.runs.Load() != 3 {
		t.Fatalf("%d runs after success, want 3 (%v)", fx.runs.Load(), err)
	}
	if _, ok := a.nextWake(p, clock.Now()); ok {
		t.Error("the daemon still wakes for a finished run")
	}
}

// Only failed, timed-out and errored runs are tried again, and at most N
// more times; rejected runs and reports of a missing console user never are.
func TestRetriesEnd(t *testing.T) {
	tests := []struct {
		name      string
		status    executor.Status
		retries   int
		tamper    bool
		noConsole bool
		wantRuns  int32
		want      []string
	}{
		{name: "exhausted", status: executor.Failed, retries: 2, wantRuns: 3,
			want: []string{protocol.StatusFailed, protocol.StatusFailed, protocol.StatusFailed}},
		{name: "errors are retried", status: executor.Error, retries: 1, wantRuns: 2,
			want: []string{protocol.StatusError, protocol.StatusError}},
		{name: "no retries", status: executor.Failed, retries: 0, wantRuns: 1, want: []string{protocol.StatusFailed}},
		{name: "rejected", status: executor.Succeeded, retries: 3, tamper: true, wantRuns: 0, want: []string{protocol.StatusRejected}},
		{name: "waiting for a console user", status: executor.Succeeded, retries: 3, noConsole: true, wantRuns: 0,
			want: []string{protocol.StatusError}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t)
			clock := clockwork.NewFakeClockAt(time.Now())
			fx := &seqExec{clock: clock, statuses: []executor.Status{tt.status}}
			o := Options{Exec: fx.run, Clock: clock, Capabilities: retryCaps}
			if tt.noConsole {
				o.ConsoleUser = func() (executor.User, error) { return executor.User{}, context.DeadlineExceeded }
			}
			a := e.agent(t, o)
			p, _ := retriedCheckin(t, e, a, schedule.Spec{Kind: schedule.Once}, tt.retries)
			if tt.noConsole {
				p.Assignments[0].RunAs = protocol.RunAsConsoleUser
			}
			e.setTamper(tt.tamper)
			for range 20 {
				if err := a.RunDue(context.Background(), p); err != nil {
					t.Fatal(err)
				}
				clock.Advance(2 * time.Hour)
			}
			rs := byAttempt(t, a)
			var got []string
			for i, r := range rs {
				got = append(got, r.Status)
				if last := i == len(rs)-1; last != r.RetryAt.IsZero() {
					t.Errorf("result %d of %d: retry at %v", i+1, len(rs), r.RetryAt)
				}
			}
			if !slices.Equal(got, tt.want) || fx.runs.Load() != tt.wantRuns {
				t.Fatalf("results %v after %d runs, want %v after %d", got, fx.runs.Load(), tt.want, tt.wantRuns)
			}
			if _, ok := a.nextWake(p, clock.Now()); ok {
				t.Error("the daemon still wakes for a run that is over")
			}
		})
	}
}

// An agent killed during an attempt reports that attempt interrupted, and
// its retries end: it is never run again.
func TestCrashDuringAttemptEndsRetries(t *testing.T) {
	e := newTestEnv(t)
	clock := clockwork.NewFakeClockAt(time.Now())
	fx := &seqExec{clock: clock, statuses: []executor.Status{executor.Failed}}
	fx.before = func(n int) {
		if n == 2 {
			runtime.Goexit() // the agent dies while attempt 2 runs: nothing after it runs, deferred calls do
		}
	}
	a := e.agent(t, Options{Exec: fx.run, Clock: clock, Capabilities: retryCaps})
	p, _ := retriedCheckin(t, e, a, schedule.Spec{Kind: schedule.Once}, 3)
	ctx := context.Background()
	if err := a.RunDue(ctx, p); err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Hour)
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.RunDue(ctx, p)
	}()
	<-done
	e2, _ := a.ledger.Get(p.Assignments[0].ID)
	if e2.Started == nil || e2.Started.Attempt != 2 || e2.Retry != nil {
		t.Fatalf("ledger during attempt 2: %+v, want it started, the retry it was consumed", e2)
	}
	if err := a.recoverInterrupted(); err != nil {
		t.Fatal(err)
	}
	for range 10 {
		clock.Advance(2 * time.Hour)
		if err := a.RunDue(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	rs := byAttempt(t, a)
	if fx.runs.Load() != 2 || len(rs) != 2 {
		t.Fatalf("%d runs, %d results; want 2 and 2", fx.runs.Load(), len(rs))
	}
	if r := rs[1]; r.Attempt != 2 || r.Status != protocol.StatusError || !strings.HasPrefix(r.Error, "interrupted") || !r.RetryAt.IsZero() {
		t.Fatalf("second result %+v, want attempt 2 interrupted, no retry", r)
	}
}

// A crash after the result of a failed attempt was queued, with its retry
// on disk beside Started, keeps the retry; one before keeps nothing open.
func TestRecoveredKeepsAnnouncedRetry(t *testing.T) {
	retry := &ledger.Retry{Attempt: 1, At: time.Date(2027, 1, 1, 0, 1, 0, 0, time.UTC)}
	started := &ledger.Started{RunID: "r1", Attempt: 1}
	tests := []struct {
		name      string
		retry     *ledger.Retry
		had       bool
		wantRetry bool
	}{
		{"result and retry saved", retry, true, true},
		{"result lost", retry, false, false},
		{"no retry", nil, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := recovered(ledger.Entry{AssignmentID: "c1", Started: started, Retry: tt.retry}, tt.had)
			if got.Started != nil || (got.Retry != nil) != tt.wantRetry || got.Done == tt.wantRetry {
				t.Fatalf("recovered %+v, want retry kept: %v", got, tt.wantRetry)
			}
		})
	}
}

// A failed occurrence of a schedule is retried for that occurrence; the
// next occurrence, once due, ends its retries and starts from attempt 1.
func TestRetriesOfAScheduledOccurrence(t *testing.T) {
	e := newTestEnv(t)
	now := time.Now().UTC()
	clock := clockwork.NewFakeClockAt(now)
	fx := &seqExec{clock: clock, statuses: []executor.Status{executor.Failed}}
	a := e.agent(t, Options{Exec: fx.run, Clock: clock, Capabilities: retryCaps, Location: time.UTC})
	occ := now.Truncate(time.Minute).Add(10 * time.Minute)
	p, _ := retriedCheckin(t, e, a, schedule.Spec{Kind: schedule.Daily, At: occ.Format("15:04"), TZ: "utc"}, 5)
	ctx := context.Background()
	run := func() {
		t.Helper()
		if err := a.RunDue(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	run() // received: nothing is due before the first occurrence
	clock.Advance(occ.Sub(clock.Now()))
	run()
	first := byAttempt(t, a)
	if len(first) != 1 || first[0].Attempt != 1 || !first[0].Occurrence.Equal(occ) || first[0].RetryAt.IsZero() {
		t.Fatalf("results %+v, want attempt 1 of %v with a retry", first, occ)
	}
	clock.Advance(first[0].RetryAt.Sub(clock.Now()))
	run()
	rs := byAttempt(t, a)
	if len(rs) != 2 || rs[1].Attempt != 2 || !rs[1].Occurrence.Equal(occ) || rs[1].RetryAt.IsZero() {
		t.Fatalf("results %+v, want attempt 2 of the same occurrence", rs)
	}
	// The next day's occurrence comes before the remaining retries are spent.
	clock.Advance(occ.Add(24 * time.Hour).Sub(clock.Now()))
	run()
	rs = byAttempt(t, a)
	if len(rs) != 3 || rs[2].Attempt != 1 || !rs[2].Occurrence.Equal(occ.Add(24*time.Hour)) {
		t.Fatalf("results %+v, want the next occurrence's attempt 1", rs)
	}
	if e3, _ := a.ledger.Get(p.Assignments[0].ID); e3.Retry == nil || !e3.Retry.Occurrence.Equal(occ.Add(24*time.Hour)) {
		t.Fatalf("ledger %+v, want the new occurrence's retry open", e3)
	}
}

// An agent that does not announce retries is sent none, and runs once.
func TestNoRetriesForOlderAgents(t *testing.T) {
	e := newTestEnv(t)
	a := e.agent(t, Options{Exec: (&fakeExec{status: executor.Failed}).run})
	ctx := context.Background()
	sc, err := e.srv.AddScript(ctx, "flaky", "", []byte("exit 1\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	n := 3
	if _, _, err := e.srv.Assign(ctx, "", "", server.ScriptRequest{Script: sc.ID, Retries: &n}, []string{"all"}); err != nil {
		t.Fatal(err)
	}
	p, err := a.Checkin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Assignments) != 1 || p.Assignments[0].Retries != 0 {
		t.Fatalf("assignments %+v, want one without retries", p.Assignments)
	}
	p.Configuration = testConfiguration
	if err := a.RunDue(ctx, p); err != nil {
		t.Fatal(err)
	}
	if rs := pending(t, a); len(rs) != 1 || rs[0].Attempt != 0 || !rs[0].RetryAt.IsZero() {
		t.Fatalf("results %+v, want one run, no attempt", rs)
	}
}

// The server hears that a run started once Started is on disk and before
// the script runs; a notice that fails costs the run nothing and is not
// sent again.
func TestRunStartedNotice(t *testing.T) {
	for _, failing := range []bool{false, true} {
		name := map[bool]string{false: "delivered", true: "refused"}[failing]
		t.Run(name, func(t *testing.T) {
			e := newTestEnv(t)
			var notices atomic.Int32
			if failing {
				e.started = func(w http.ResponseWriter, _ *http.Request) {
					notices.Add(1)
					http.Error(w, `{"error":"down"}`, http.StatusInternalServerError)
				}
			}
			clock := clockwork.NewFakeClockAt(time.Now())
			var cfgID string
			var statusAtRun store.DeviceStatus
			var ledgerAtRun ledger.Entry
			fx := &seqExec{clock: clock, statuses: []executor.Status{executor.Succeeded}}
			a := e.agent(t, Options{Exec: fx.run, Clock: clock, Capabilities: retryCaps})
			fx.before = func(int) {
				sts, err := e.srv.Store.ConfigStatuses(context.Background(), cfgID)
				if err != nil || len(sts) != 1 {
					t.Errorf("statuses %v, %v", sts, err)
					return
				}
				statusAtRun = sts[0]
				ledgerAtRun, _ = a.ledger.Get(cfgID)
			}
			p, c := retriedCheckin(t, e, a, schedule.Spec{Kind: schedule.Once}, 1)
			cfgID = c.ID
			if err := a.RunDue(context.Background(), p); err != nil {
				t.Fatal(err)
			}
			if fx.runs.Load() != 1 || len(pending(t, a)) != 1 {
				t.Fatalf("%d runs, %d results; want 1 and 1", fx.runs.Load(), len(pending(t, a)))
			}
			if ledgerAtRun.Started == nil {
				t.Error("the script ran before its start was on disk")
			}
			if failing {
				if statusAtRun.Status == store.StatusRunning || notices.Load() != 1 {
					t.Errorf("status %q after %d notices, want not running after exactly 1", statusAtRun.Status, notices.Load())
				}
				return
			}
			want := "attempt 1 started at " + clock.Now().UTC().Format(time.RFC3339) + " (run " + ledgerAtRun.Started.RunID + ")"
			if statusAtRun.Status != store.StatusRunning || statusAtRun.Detail != want {
				t.Errorf("status when the script ran: %q %q, want running %q", statusAtRun.Status, statusAtRun.Detail, want)
			}
		})
	}
}

// The daemon computes its next wake-up before a batch of scripts ends: a
// batch that recorded a retry, or during which one came due, tells it to
// look again, and only once, so that it never spins.
func TestAfterBatchTellsTheDaemon(t *testing.T) {
	e := newTestEnv(t)
	clock := clockwork.NewFakeClockAt(time.Now())
	fx := &seqExec{clock: clock, statuses: []executor.Status{executor.Failed}}
	a := e.agent(t, Options{Exec: fx.run, Clock: clock, Capabilities: retryCaps})
	p, _ := retriedCheckin(t, e, a, schedule.Spec{Kind: schedule.Once}, 3)
	told := func() bool {
		select {
		case <-a.again:
			return true
		default:
			return false
		}
	}
	batch := func(advance time.Duration) bool {
		t.Helper()
		start := clock.Now()
		if err := a.RunDue(context.Background(), p); err != nil {
			t.Fatal(err)
		}
		clock.Advance(advance)
		a.afterBatch(p, start)
		return told()
	}
	if !batch(0) {
		t.Fatal("a batch that recorded a retry did not tell the daemon")
	}
	if batch(0) {
		t.Fatal("a batch that ran nothing told the daemon to look again")
	}
	// The retry comes due while a long batch runs: it was not run then.
	if !batch(2*time.Hour) || fx.runs.Load() != 1 {
		t.Fatalf("a retry that came due during a batch: not told, or %d runs", fx.runs.Load())
	}
	if !batch(0) || fx.runs.Load() != 2 {
		t.Fatalf("the batch after it: %d runs, want the retry run and another recorded", fx.runs.Load())
	}
}

// A run the agent stops because it is stopping is interrupted: reported,
// not tried again.
func TestStoppingEndsRetries(t *testing.T) {
	e := newTestEnv(t)
	clock := clockwork.NewFakeClockAt(time.Now())
	ctx, cancel := context.WithCancel(context.Background())
	fx := &seqExec{clock: clock, statuses: []executor.Status{executor.Error}, before: func(int) { cancel() }}
	a := e.agent(t, Options{Exec: fx.run, Clock: clock, Capabilities: retryCaps})
	p, _ := retriedCheckin(t, e, a, schedule.Spec{Kind: schedule.Once}, 3)
	if err := a.RunDue(ctx, p); err != nil {
		t.Fatal(err)
	}
	if rs := pending(t, a); len(rs) != 1 || !rs[0].RetryAt.IsZero() {
		t.Fatalf("results %+v, want one and no retry", rs)
	}
	if en, _ := a.ledger.Get(p.Assignments[0].ID); !en.Done || en.Retry != nil {
		t.Fatalf("ledger %+v, want done", en)
	}
}

// A failed run of an event is retried for that event's occurrence; the
// event sent again before the retries are spent ends them, and the new
// occurrence starts from attempt 1.
func TestRetriesOfATriggeredOccurrence(t *testing.T) {
	e := newTestEnv(t)
	clock := clockwork.NewFakeClockAt(time.Now())
	fx := &seqExec{clock: clock, statuses: []executor.Status{executor.Failed}}
	a := e.agent(t, Options{Exec: fx.run, Clock: clock, Capabilities: append(slices.Clone(retryCaps), protocol.CapTriggers)})
	p, _ := retriedCheckin(t, e, a, schedule.Spec{Kind: schedule.Event, Event: "vpn-up"}, 5)
	ctx := context.Background()
	send := func() time.Time {
		t.Helper()
		clock.Advance(time.Minute)
		at := clock.Now()
		if err := SendEvent(a.o.StateDir, "vpn-up", at); err != nil {
			t.Fatal(err)
		}
		return at
	}
	run := func() {
		t.Helper()
		if err := a.RunDue(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	run() // received: an event from before would not be owed
	first := send()
	run()
	rs := byAttempt(t, a)
	if len(rs) != 1 || rs[0].Attempt != 1 || rs[0].RetryAt.IsZero() || rs[0].Occurrence.IsZero() {
		t.Fatalf("results %+v, want attempt 1 of the event with a retry", rs)
	}
	occ := rs[0].Occurrence
	clock.Advance(rs[0].RetryAt.Sub(clock.Now()))
	run()
	if rs = byAttempt(t, a); len(rs) != 2 || rs[1].Attempt != 2 || !rs[1].Occurrence.Equal(occ) {
		t.Fatalf("results %+v, want attempt 2 of the same occurrence", rs)
	}
	second := send()
	run()
	rs = byAttempt(t, a)
	if len(rs) != 3 || rs[2].Attempt != 1 || !rs[2].Occurrence.After(occ) {
		t.Fatalf("results %+v, want attempt 1 of the new occurrence (events at %v and %v)", rs, first, second)
	}
	if fx.runs.Load() != 3 {
		t.Fatalf("%d runs, want 3", fx.runs.Load())
	}
}
