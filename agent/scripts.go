package agent

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"go.uber.org/zap"

	"github.com/mobileatwork/mobileatwork/agent/ledger"
	"github.com/mobileatwork/mobileatwork/executor"
	"github.com/mobileatwork/mobileatwork/protocol"
)

// scriptsReceiver runs the assignments that are due.
type scriptsReceiver struct{ a *Agent }

// ScriptsReceiver runs the scripts that are due, one at a time, and queues
// their results. Register it first: what is due runs before anything else.
func ScriptsReceiver(a *Agent) Receiver { return scriptsReceiver{a} }

func (scriptsReceiver) Name() string { return "scripts" }

func (r scriptsReceiver) Receive(ctx context.Context, p *protocol.CheckinPayload) error {
	return r.a.RunDue(ctx, p)
}

// due is one assignment occurrence to handle now.
type due struct {
	asg        protocol.Assignment
	entry      ledger.Entry
	occurrence time.Time // zero for run-once
	attempt    int       // set for the retry of a failed attempt (retry.go)
}

// dueNow lists what is due at now, oldest assignment first.
func (a *Agent) dueNow(p *protocol.CheckinPayload, now time.Time) ([]due, error) {
	var out []due
	var errs []error
	for _, asg := range runnable(p) {
		e, err := a.ledger.Observe(asg.ID, asg.Version, asg.Schedule.String(), now)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if e.Started != nil {
			a.explain(asg, "not due: its last run is not settled yet (interrupted, or its result not saved yet)", zap.String("run_id", e.Started.RunID))
			continue
		}
		if d, ok, handled := a.dueRetry(asg, e, now); handled {
			if ok {
				out = append(out, d)
			}
			continue
		}
		if asg.Schedule.Triggered() {
			if d, ok := a.dueTriggered(asg, e); ok {
				out = append(out, d)
			}
			continue
		}
		if !asg.Schedule.Recurring() {
			switch {
			case e.Done:
				a.explain(asg, "not due: run-once, already run")
			case e.Waiting == protocol.WaitingConsoleUser:
				a.explain(asg, "due: run-once, waiting for a console user to log in")
				out = append(out, due{asg: asg, entry: e})
			default:
				a.explain(asg, "due: run-once, not run yet")
				out = append(out, due{asg: asg, entry: e})
			}
			continue
		}
		if e, err = a.clockWasAhead(e, now); err != nil {
			errs = append(errs, err)
			continue
		}
		last := e.LastOccurrence
		if last.IsZero() {
			last = e.ReceivedAt
		}
		occ, ok, next, hasNext := asg.Schedule.Due(last, now, a.o.Location)
		switch {
		case ok:
			a.explain(asg, "due: scheduled occurrence", zap.String("schedule", asg.Schedule.String()), zap.String("occurrence", a.instant(occ)))
			out = append(out, due{asg: asg, entry: e, occurrence: occ})
		case hasNext:
			a.explain(asg, "not due yet", zap.String("schedule", asg.Schedule.String()), zap.String("last", a.instant(last)), zap.String("next", a.instant(next)))
		default:
			a.explain(asg, "not due: the schedule has ended", zap.String("schedule", asg.Schedule.String()))
		}
	}
	return out, errors.Join(errs...)
}

// explain logs, at debug, what the agent decided about an assignment and why.
func (a *Agent) explain(asg protocol.Assignment, msg string, fields ...zap.Field) {
	if ce := a.o.Log.Check(zap.DebugLevel, msg); ce != nil {
		ce.Write(append([]zap.Field{zap.String("assignment", asg.ID), zap.String("name", asg.Name), zap.Int("version", asg.Version)}, fields...)...)
	}
}

// instant shows t in the device's zone with its date and offset, which the
// console log's clock-only times leave out.
func (a *Agent) instant(t time.Time) string { return t.In(a.o.Location).Format(time.RFC3339) }

// clockWasAhead repairs an entry whose last run (or receipt) lies in the
// future: the clock was wrongly ahead then, and was corrected since. Left
// as it is, no occurrence would be due until the clock caught up with it,
// months of silence while status shows the next run. The entry restarts
// from now, so the next occurrence runs, once.
func (a *Agent) clockWasAhead(e ledger.Entry, now time.Time) (ledger.Entry, error) {
	if !e.LastOccurrence.After(now) && !e.ReceivedAt.After(now) {
		return e, nil
	}
	a.o.Log.Warn("a schedule's last run is in the future: the clock was ahead and has been corrected; the schedule restarts from now",
		zap.String("assignment", e.AssignmentID), zap.Time("last_run", e.LastOccurrence), zap.Time("received", e.ReceivedAt))
	if e.LastOccurrence.After(now) {
		e.LastOccurrence = now
	}
	if e.ReceivedAt.After(now) {
		e.ReceivedAt = now
	}
	return e, a.ledger.Put(e)
}

// RunDue runs every due assignment, one script at a time. A script that
// cannot be fetched now is left for the next cycle; one that fails
// verification is reported as rejected and never run.
//
// Without a Mobile@Work configuration nothing runs, whatever Assignments
// holds: the server sends none then, and the agent does not rely on it.
func (a *Agent) RunDue(ctx context.Context, p *protocol.CheckinPayload) error {
	a.runMu.Lock()
	defer a.runMu.Unlock()
	if !a.configured(p) {
		a.o.Log.Debug("no Mobile@Work configuration in effect: no assignment is considered", zap.Int("assignments", len(p.Assignments)))
		return nil
	}
	a.consumeEvents(a.o.Clock.Now())
	if why := a.scriptsStopped(p); why != "" {
		a.o.Log.Debug("scripts are stopped: no assignment is considered", zap.String("reason", why))
		return nil
	}
	items, err := a.dueNow(p, a.o.Clock.Now())
	a.o.Log.Debug("assignments due now", zap.Int("due", len(items)), zap.Int("assignments", len(p.Assignments)))
	errs := []error{err}
	for _, d := range items {
		if ctx.Err() != nil {
			break
		}
		if err := a.runOne(ctx, p.Config, d); err != nil {
			a.o.Log.Warn("assignment not run", zap.String("assignment", d.asg.ID), zap.Error(err))
			errs = append(errs, fmt.Errorf("assignment %s: %w", d.asg.ID, err))
		}
	}
	return errors.Join(errs...)
}

// noConfigurationWarning is logged when a payload distributes no
// Mobile@Work configuration.
const noConfigurationWarning = "no Mobile@Work configuration is distributed to this device: no script runs"

// configured reports whether p distributes a Mobile@Work configuration,
// which every script run needs. It logs only when that changes, as the
// daemon hands the same payload over at each wake-up.
func (a *Agent) configured(p *protocol.CheckinPayload) bool {
	a.cfgMu.Lock()
	defer a.cfgMu.Unlock()
	ref := p.Configuration
	if !a.cfgSeen || !sameConfiguration(a.cfgRef, ref) {
		if ref == nil {
			a.o.Log.Warn(noConfigurationWarning)
		} else {
			a.o.Log.Info("Mobile@Work configuration in effect", zap.String("configuration", ref.ID),
				zap.String("name", ref.Name), zap.Int("version", ref.Version))
		}
	}
	a.cfgSeen, a.cfgRef = true, nil
	if ref != nil {
		c := *ref
		a.cfgRef = &c
	}
	return ref != nil
}

func sameConfiguration(a, b *protocol.ConfigurationRef) bool {
	return a == b || (a != nil && b != nil && *a == *b)
}

// runnable is what p lets run: nothing without a Mobile@Work configuration.
func runnable(p *protocol.CheckinPayload) []protocol.Assignment {
	if p.Configuration == nil {
		return nil
	}
	return p.Assignments
}

// settle records that an occurrence has been handled.
func settle(e ledger.Entry, occurrence time.Time) ledger.Entry {
	e.Started, e.Waiting, e.Retry = nil, "", nil
	if occurrence.IsZero() {
		e.Done = true
	} else {
		e.LastOccurrence = occurrence
	}
	return e
}

func (a *Agent) result(d due, runID string) protocol.Result {
	return protocol.Result{
		RunID: runID, DeviceID: a.id.DeviceID, AssignmentID: d.asg.ID, AssignmentVersion: d.asg.Version,
		ScriptID: d.asg.ScriptID, Occurrence: d.occurrence, Attempt: d.attemptNumber(),
	}
}

func (a *Agent) runOne(ctx context.Context, cfg protocol.Config, d due) error {
	log := a.o.Log.With(zap.String("assignment", d.asg.ID), zap.String("script", d.asg.Name))
	// The latest orders first: a run they forbid is not even fetched (an
	// agent that did not report starts was counted running by its fetch);
	// begin looks again just before the run starts.
	ref := protocol.RunRef{ID: d.asg.ID, Version: d.asg.Version}
	if cause := a.runs.allowed(ref); cause != nil {
		return a.notStarted(log, d, cause)
	}
	if err := protocol.CheckRunAs(d.asg.RunAs); err != nil {
		// Never a guess: an unknown value is not run as root, nor at all.
		log.Warn("script refused: its run_as is unknown; it will not run", zap.Error(err))
		now := a.o.Clock.Now().UTC()
		res := a.result(d, NewRunID(now))
		res.Status = protocol.StatusError
		res.Error = err.Error() + ": the script does not run; correct the configuration's --run-as or update the agent"
		res.StartedAt, res.FinishedAt = now, now
		return a.keep(res, settle(d.entry, d.occurrence))
	}
	blob, err := a.api.FetchBlob(ctx, d.asg)
	if err != nil {
		return fmt.Errorf("download script: %w", err) // transient: retried next cycle
	}
	now := a.o.Clock.Now().UTC()
	res := a.result(d, NewRunID(now))
	sc, err := a.api.OpenAssignment(d.asg, blob)
	if err != nil {
		log.Warn("script refused: verification failed; it will not run", zap.Error(err))
		res.Status, res.Error = protocol.StatusRejected, err.Error()
		res.StartedAt, res.FinishedAt = now, now
		if err := a.outbox.Put(res); err != nil {
			return err
		}
		return a.ledger.Put(settle(d.entry, d.occurrence))
	}
	// From here every result names the verified body, including the one
	// saying it waits for a console user: that is the body that will run.
	res.ScriptSHA256 = protocol.SHA256Hex(sc.Body)
	var runAs *executor.User
	if d.asg.RunAs == protocol.RunAsConsoleUser {
		u, err := a.o.ConsoleUser()
		if err != nil {
			// Report once, then retry quietly at each cycle until a user logs in.
			if d.entry.Waiting == "" {
				res.Status, res.Error = protocol.StatusError, "no user logged in: will run when a user logs in"
				res.Waiting = protocol.WaitingConsoleUser
				res.StartedAt, res.FinishedAt = now, now
				if err := a.outbox.Put(res); err != nil {
					return err
				}
				d.entry.Waiting = protocol.WaitingConsoleUser
				return a.ledger.Put(d.entry)
			}
			log.Debug("skipped: still no console user; it runs when a user logs in", zap.Error(err))
			return nil
		}
		runAs = &u
	}
	runCtx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	done, cause := a.runs.begin(ref, stop)
	if cause != nil {
		return a.notStarted(log, d, cause)
	}
	defer done()
	// At most once: the start is on disk before the script can run.
	e := d.entry
	token, err := executor.NewRunToken()
	if err != nil {
		return err
	}
	e.Started = &ledger.Started{RunID: res.RunID, Occurrence: d.occurrence, At: now, ScriptSHA256: res.ScriptSHA256, RunToken: token, Attempt: res.Attempt}
	e.Retry = nil // this attempt is the retry; what follows it is decided when it ends
	if err := a.ledger.Put(e); err != nil {
		return fmt.Errorf("record start: %w", err)
	}
	req := executor.Request{
		Script:    sc.Body,
		Env:       map[string]string{},
		Timeout:   time.Duration(cfg.MaxExecutionSeconds) * time.Second,
		KillGrace: time.Duration(cfg.KillGraceSeconds) * time.Second,
		MaxOutput: cfg.MaxResponseKB * 1024,
		RunAs:     runAs,
		TempDir:   filepath.Join(a.o.StateDir, runDir),
		RunToken:  token,
	}
	for _, in := range d.asg.Inputs {
		req.Args = append(req.Args, in.Value)
		req.Env[inputEnvName(in.Name)] = in.Value
	}
	if runAs != nil {
		req.TempDir = a.o.UserRunDir
		if err := ensureUserRunDir(req.TempDir); err != nil {
			return err
		}
	} else if err := ensureStateDir(req.TempDir); err != nil {
		return err
	}
	a.reportStarted(ctx, res)
	log.Info("running script", zap.String("run_id", res.RunID))
	out := a.o.Exec(runCtx, req)
	res.Status = string(out.Status)
	res.ExitCode = out.ExitCode
	res.StartedAt, res.FinishedAt = out.StartedAt.UTC(), out.FinishedAt.UTC()
	res.DurationMS = out.FinishedAt.Sub(out.StartedAt).Milliseconds()
	res.Stdout, res.Stderr = out.Stdout, out.Stderr
	res.StdoutBytes, res.StderrBytes = out.StdoutBytes, out.StderrBytes
	res.Truncated, res.InvalidUTF8, res.Error = out.Truncated, out.InvalidUTF8, out.Error
	log.Info("script finished", zap.String("run_id", res.RunID), zap.String("status", res.Status),
		zap.Int("exit_code", res.ExitCode), zap.Int64("duration_ms", res.DurationMS))
	return a.finish(ctx, res, e, d)
}

// unsavedResult is a result the outbox could not take (a full disk), with
// the ledger entry that settles its run once it is saved.
type unsavedResult struct {
	res   protocol.Result
	entry ledger.Entry
}

// keep saves a finished run's result and then settles its ledger entry.
// When the disk is full it keeps both in memory and tries again at each
// flush, so the run is reported once space is back, without a restart;
// until then the entry stays "started" and the run is not due again.
func (a *Agent) keep(res protocol.Result, settled ledger.Entry) error {
	if err := a.outbox.Put(res); err != nil {
		a.unsavedMu.Lock()
		a.unsaved = append(a.unsaved, unsavedResult{res, settled})
		a.unsavedMu.Unlock()
		a.o.Log.Error("the result could not be saved; it is kept in memory and saved again at each check-in",
			zap.String("run_id", res.RunID), zap.Error(err))
		return fmt.Errorf("queue result: %w", err)
	}
	return a.ledger.Put(settled)
}

// saveUnsaved retries the results the outbox could not take.
func (a *Agent) saveUnsaved() {
	a.unsavedMu.Lock()
	defer a.unsavedMu.Unlock()
	left := a.unsaved[:0]
	for _, u := range a.unsaved {
		if err := a.outbox.Put(u.res); err != nil {
			left = append(left, u)
			continue
		}
		if err := a.ledger.Put(u.entry); err != nil {
			a.o.Log.Warn("result saved, run not yet settled", zap.String("run_id", u.res.RunID), zap.Error(err))
		}
		a.o.Log.Info("a result kept in memory is saved", zap.String("run_id", u.res.RunID))
	}
	a.unsaved = left
}

// recoverInterrupted settles runs that were started but never recorded as
// finished: the agent died while they ran. They are reported, never rerun.
// A result that did reach the outbox is kept as it is.
func (a *Agent) recoverInterrupted() error {
	var errs []error
	for _, e := range a.ledger.All() {
		if e.Started == nil {
			continue
		}
		if e.Started.RunToken != "" {
			// The script may still run, orphaned by the agent's death: stop
			// it, so that "interrupted" means it is over.
			if n, err := a.o.KillRun(e.Started.RunToken); err != nil {
				a.o.Log.Warn("stop the processes of an interrupted run", zap.String("run_id", e.Started.RunID), zap.Error(err))
			} else if n > 0 {
				a.o.Log.Warn("stopped the processes an interrupted run left running", zap.String("run_id", e.Started.RunID), zap.Int("processes", n))
			}
		}
		had := a.outbox.Has(e.Started.RunID)
		if !had {
			now := a.o.Clock.Now().UTC()
			res := protocol.Result{
				RunID: e.Started.RunID, DeviceID: a.id.DeviceID, AssignmentID: e.AssignmentID,
				AssignmentVersion: e.Version, ScriptSHA256: e.Started.ScriptSHA256, Occurrence: e.Started.Occurrence,
				Status: protocol.StatusError, StartedAt: e.Started.At, FinishedAt: now,
				Error:   "interrupted: the agent stopped while the script ran; it is not run again",
				Attempt: e.Started.Attempt,
			}
			if err := a.outbox.Put(res); err != nil {
				errs = append(errs, err)
				continue
			}
			a.o.Log.Warn("run interrupted by an agent stop; reported, not rerun", zap.String("assignment", e.AssignmentID), zap.String("run_id", e.Started.RunID))
		}
		if err := a.ledger.Put(recovered(e, had)); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// nextRuns describes, for `status`, when each assignment runs next.
func (a *Agent) nextRuns(p *protocol.CheckinPayload, now time.Time) []NextRun {
	out := []NextRun{}
	for _, asg := range runnable(p) {
		nr := NextRun{AssignmentID: asg.ID, Name: asg.Name, Schedule: asg.Schedule.String()}
		if a.retryState(&nr, asg) {
			out = append(out, nr)
			continue
		}
		e, seen := a.ledger.Get(asg.ID)
		if seen && (e.Version != asg.Version || e.Schedule != asg.Schedule.String()) {
			seen = false
		}
		switch {
		case asg.Schedule.Triggered():
			nr.State, nr.LastOccurrence = a.triggeredRun(asg, e, seen)
		case !asg.Schedule.Recurring() && seen && e.Done:
			nr.State = "done"
		case !asg.Schedule.Recurring():
			nr.State = "due"
		default:
			last := e.LastOccurrence
			if last.IsZero() && seen {
				last = e.ReceivedAt
			}
			if _, ok, _, _ := asg.Schedule.Due(last, now, a.o.Location); ok && seen {
				nr.State = "due"
			} else if next, ok := asg.Schedule.Next(now, a.o.Location); ok {
				nr.State, nr.Next = "scheduled", next
			} else {
				nr.State = "finished"
			}
		}
		out = append(out, nr)
	}
	return out
}

// nextWake is the earliest upcoming scheduled occurrence or next attempt
// of a failed run, if any.
func (a *Agent) nextWake(p *protocol.CheckinPayload, now time.Time) (time.Time, bool) {
	var best time.Time
	for _, asg := range runnable(p) {
		if t, ok := a.retryWake(asg, now); ok && (best.IsZero() || t.Before(best)) {
			best = t
		}
		if !asg.Schedule.Recurring() {
			continue
		}
		if next, ok := asg.Schedule.Next(now, a.o.Location); ok && (best.IsZero() || next.Before(best)) {
			best = next
		}
	}
	return best, !best.IsZero()
}
