package agent

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"go.uber.org/zap"

	"github.com/mobileatwork/mobileatwork/executor"
	"github.com/mobileatwork/mobileatwork/protocol"
)

// errCancelledByAdmin ends a run the payload's Cancel names: the executor
// kills it as a timeout does and reports it cancelled with this text.
var errCancelledByAdmin = fmt.Errorf("%w by the administrator", executor.ErrCancelled)

// stoppedCause ends a run when scripts are stopped on the device.
func stoppedCause(reason string) error {
	return fmt.Errorf("%w: %s", executor.ErrCancelled, reason)
}

// runs is what the agent knows of the script running now and of the
// orders of the latest verified payload, under one mutex: a run starts
// only if no order forbids it, and an order stops the run it names.
type runs struct {
	mu      sync.Mutex
	current *currentRun
	cancel  map[protocol.RunRef]bool // the latest payload's Cancel
	stopped string                   // why scripts are stopped; "" when they run
	told    string                   // the stop last logged
	seen    bool                     // orders were applied: they are the latest
	// live are the assignments of the latest payload (when it was not
	// paged): a batch started earlier does not start one withdrawn since.
	live map[protocol.RunRef]bool
}

// currentRun is the run the executor holds now.
type currentRun struct {
	ref  protocol.RunRef
	stop context.CancelCauseFunc
}

// applyOrders takes the orders of a verified payload: the runs cancelled
// and the brake on scripts. The running script is stopped when either
// names it. Called after each verified check-in, daemon and one-shot.
func (a *Agent) applyOrders(p *protocol.CheckinPayload) {
	r := &a.runs
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen, r.live = true, nil
	if !p.More {
		r.live = make(map[protocol.RunRef]bool, len(p.Assignments))
		for _, asg := range p.Assignments {
			r.live[protocol.RunRef{ID: asg.ID, Version: asg.Version}] = true
		}
	}
	r.cancel = make(map[protocol.RunRef]bool, len(p.Cancel))
	for _, ref := range p.Cancel {
		r.cancel[ref] = true
	}
	r.stopped = ""
	if p.Config.ScriptsStopped {
		r.stopped = p.Config.ScriptsStoppedReason
		if r.stopped == "" {
			r.stopped = "scripts stopped by the tenant"
		}
	}
	a.tellStop()
	cur := r.current
	switch {
	case cur == nil:
	case r.stopped != "":
		a.o.Log.Warn("stopping the running script: scripts are stopped", zap.String("assignment", cur.ref.ID), zap.String("reason", r.stopped))
		cur.stop(stoppedCause(r.stopped))
	case r.cancel[cur.ref]:
		a.o.Log.Warn("stopping the running script: the administrator cancelled it", zap.String("assignment", cur.ref.ID), zap.Int("version", cur.ref.Version))
		cur.stop(errCancelledByAdmin)
	}
}

// tellStop logs the brake once each time it changes; r.mu is held.
func (a *Agent) tellStop() {
	r := &a.runs
	if r.stopped == r.told {
		return
	}
	if r.stopped != "" {
		a.o.Log.Warn("scripts are stopped on this device: none runs until the tenant resumes them", zap.String("reason", r.stopped))
	} else {
		a.o.Log.Info("scripts are no longer stopped: they run again")
	}
	r.told = r.stopped
}

// scriptsStopped says why scripts are stopped ("" when they run): by the
// orders of the latest check-in, or before this process checked in, by
// p's (a payload saved earlier).
func (a *Agent) scriptsStopped(p *protocol.CheckinPayload) string {
	r := &a.runs
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.seen && p.Config.ScriptsStopped {
		r.stopped = p.Config.ScriptsStoppedReason
		a.tellStop()
	}
	return r.stopped
}

// errWithdrawn refuses a run whose assignment the latest payload no
// longer holds (cancelled before it ran, withdrawn, expired).
var errWithdrawn = errors.New("withdrawn since the batch began: not run")

// begin registers the run of ref about to start, stopped through stop.
// It refuses, with the cause, when scripts are stopped or the run is
// cancelled; done ends the registration.
func (r *runs) begin(ref protocol.RunRef, stop context.CancelCauseFunc) (done func(), cause error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if cause := r.forbids(ref); cause != nil {
		return nil, cause
	}
	cur := &currentRun{ref: ref, stop: stop}
	r.current = cur
	return func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.current == cur {
			r.current = nil
		}
	}, nil
}

// allowed is nil when the latest orders let the run of ref start, else why not.
func (r *runs) allowed(ref protocol.RunRef) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.forbids(ref)
}

// forbids is allowed with r.mu held.
func (r *runs) forbids(ref protocol.RunRef) error {
	// Withdrawn comes before cancelled: the server sends an order for a
	// while after a cancel, and a run the payload no longer holds was
	// never started, so there is nothing to report.
	switch {
	case r.stopped != "":
		return stoppedCause(r.stopped)
	case r.live != nil && !r.live[ref]:
		return errWithdrawn
	case r.cancel[ref]:
		return errCancelledByAdmin
	}
	return nil
}

// notStarted handles a run the orders forbid: one cancelled is reported
// cancelled and settled (the server waits for its result), one withdrawn
// is dropped, one stopped stays due until scripts are resumed.
func (a *Agent) notStarted(log *zap.Logger, d due, cause error) error {
	switch {
	case errors.Is(cause, errCancelledByAdmin):
		log.Info("not run: the administrator cancelled it")
		now := a.o.Clock.Now().UTC()
		res := a.result(d, NewRunID(now))
		res.Status, res.Error = protocol.StatusCancelled, cause.Error()+" before it started"
		res.StartedAt, res.FinishedAt = now, now
		return a.keep(res, settle(d.entry, d.occurrence))
	case errors.Is(cause, errWithdrawn):
		log.Info("not run: no longer assigned to this device")
	default:
		log.Info("not run: scripts are stopped", zap.Error(cause))
	}
	return nil
}
