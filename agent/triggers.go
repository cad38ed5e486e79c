package agent

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/mobileatwork/mobileatwork/agent/ledger"
	"github.com/mobileatwork/mobileatwork/agent/trigger"
	"github.com/mobileatwork/mobileatwork/executor"
	"github.com/mobileatwork/mobileatwork/internal/atomicfile"
	"github.com/mobileatwork/mobileatwork/internal/routines"
	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/protocol/schedule"
)

const (
	// EnrollmentWindow is how soon after enrollment a configuration must
	// first reach the device to run on enrollment: a device enrolled long
	// ago never runs an enrollment script it receives now.
	EnrollmentWindow = time.Hour
	// triggerPoll is how often the daemon looks at the console user, the
	// network addresses and the event spool.
	triggerPoll = 2 * time.Second
	// networkDebounce is how long a new set of addresses must hold to be
	// a network change: an interface coming up takes a few steps.
	networkDebounce = 5 * time.Second
)

// openTriggers loads the record of trigger occurrences.
func (a *Agent) openTriggers() error {
	r, err := trigger.Open(filepath.Join(a.o.StateDir, trigger.File))
	if err != nil {
		return err
	}
	a.triggers = r
	return nil
}

// watchTriggers looks for trigger occurrences until ctx ends and, at
// each, has the daemon look again (lookAgain) to run what is due from the
// payload it holds.
func (a *Agent) watchTriggers(ctx context.Context) {
	for {
		if a.observeTriggers(a.o.Clock.Now()) {
			a.fire()
		}
		if !routines.Sleep(ctx, a.o.Clock, triggerPoll) {
			return
		}
	}
}

// fire wakes the daemon to run what an occurrence made due.
func (a *Agent) fire() {
	a.firedGen.Add(1)
	a.lookAgain()
}

// refireSince wakes the daemon again when an occurrence came while the
// receivers were busy since gen: it runs once they are free.
func (a *Agent) refireSince(gen uint64) {
	if a.firedGen.Load() != gen {
		a.fire()
	}
}

// observeTriggers records what happened since the previous look, and
// reports whether anything did.
func (a *Agent) observeTriggers(now time.Time) bool {
	fired := false
	name := ""
	u, err := a.o.ConsoleUser()
	if err == nil {
		name = u.Name
	}
	if err == nil || errors.Is(err, executor.ErrNoConsoleUser) {
		login, err := a.triggers.ConsoleUser(name, now)
		if err != nil {
			a.o.Log.Warn("record a console login", zap.Error(err))
		} else if login {
			a.o.Log.Info("a user logged in: scripts on login are due", zap.String("user", name))
			fired = true
		}
	} else {
		a.o.Log.Debug("console user unknown: logins not watched now", zap.Error(err))
	}
	if addrs, err := a.o.InterfaceAddrs(); err != nil {
		a.o.Log.Debug("network addresses unknown: changes not watched now", zap.Error(err))
	} else if changed, err := a.triggers.Addresses(addrs, now, networkDebounce); err != nil {
		a.o.Log.Warn("record a network change", zap.Error(err))
	} else if changed {
		a.o.Log.Info("the network changed: scripts on network change are due", zap.Strings("addresses", addrs))
		fired = true
	}
	return a.consumeEvents(now) > 0 || fired
}

// consumeEvents records the events `mobileatwork event` left in the spool.
func (a *Agent) consumeEvents(now time.Time) int {
	n, err := a.triggers.Consume(a.o.StateDir, now)
	if err != nil {
		a.o.Log.Warn("read the event spool", zap.Error(err))
	}
	if n > 0 {
		a.o.Log.Info("events received: scripts on them are due", zap.Int("events", n))
	}
	return n
}

// occurrence is the latest occurrence of asg's trigger owed to entry e,
// if any: one after the later of its last handled occurrence and its
// receipt. Enrollment is the exception: its occurrence is the device's
// enrollment, owed to a configuration first received within
// EnrollmentWindow of it.
func (a *Agent) occurrence(asg protocol.Assignment, e ledger.Entry) (time.Time, bool) {
	if asg.Schedule.Kind == schedule.Enrollment {
		at := a.id.EnrolledAt
		ok := !at.IsZero() && e.LastOccurrence.IsZero() && e.ReceivedAt.Sub(at) <= EnrollmentWindow
		return at, ok
	}
	last := a.triggers.Last(trigger.Key(asg.Schedule))
	return last, last.After(e.LastOccurrence) && last.After(e.ReceivedAt)
}

// dueTriggered tells whether a triggered assignment is due now.
func (a *Agent) dueTriggered(asg protocol.Assignment, e ledger.Entry) (due, bool) {
	if err := asg.Schedule.Validate(); err != nil {
		a.explain(asg, "not due: its trigger is not valid", zap.Error(err))
		return due{}, false
	}
	occ, ok := a.occurrence(asg, e)
	switch {
	case ok:
		a.explain(asg, "due: its trigger occurred", zap.String("trigger", asg.Schedule.String()), zap.String("occurrence", a.instant(occ)))
		return due{asg: asg, entry: e, occurrence: occ}, true
	case asg.Schedule.Kind == schedule.Enrollment && !e.LastOccurrence.IsZero():
		a.explain(asg, "not due: run at enrollment already")
	case asg.Schedule.Kind == schedule.Enrollment:
		a.explain(asg, "not due: received more than the enrollment window after enrollment", zap.Duration("window", EnrollmentWindow))
	default:
		a.explain(asg, "not due: waiting for its trigger", zap.String("trigger", asg.Schedule.String()))
	}
	return due{}, false
}

// triggeredRun is what `status` shows of a triggered assignment: due,
// waiting (for its trigger), done (enrollment, run) or finished
// (enrollment, not owed), and the trigger's latest occurrence.
func (a *Agent) triggeredRun(asg protocol.Assignment, e ledger.Entry, seen bool) (state string, last time.Time) {
	if asg.Schedule.Kind == schedule.Enrollment {
		last = a.id.EnrolledAt
	} else {
		last = a.triggers.Last(trigger.Key(asg.Schedule))
	}
	if !seen {
		e = ledger.Entry{ReceivedAt: a.o.Clock.Now()}
	}
	_, owed := a.occurrence(asg, e)
	switch {
	case owed:
		return "due", last
	case asg.Schedule.Kind == schedule.Enrollment && !e.LastOccurrence.IsZero():
		return "done", last
	case asg.Schedule.Kind == schedule.Enrollment:
		return "finished", last
	}
	return "waiting", last
}

// ErrUnknownEvent refuses an event that no configuration of the device
// runs on.
var ErrUnknownEvent = errors.New("no script configuration of this device runs on this event")

// SendEvent records the named event for the daemon, which runs the
// configurations on it within seconds, or at its next start. It takes no
// lock, so it works while the daemon runs. The name must be one a
// configuration of the payload the device holds runs on.
func SendEvent(stateDir, name string, now time.Time) error {
	if err := schedule.ValidEventName(name); err != nil {
		return err
	}
	if _, err := LoadIdentity(stateDir); err != nil {
		return err
	}
	var known []string
	var p protocol.CheckinPayload
	if err := atomicfile.ReadJSON(filepath.Join(stateDir, payloadFile), &p); err == nil {
		for _, asg := range runnable(&p) {
			if asg.Schedule.Kind == schedule.Event {
				known = append(known, asg.Schedule.Event)
			}
		}
	}
	if !slices.Contains(known, name) {
		slices.Sort(known)
		hint := "none as of the last check-in"
		if len(known) > 0 {
			hint = strings.Join(slices.Compact(known), ", ")
		}
		return fmt.Errorf("event %q: %w (events it runs on: %s)", name, ErrUnknownEvent, hint)
	}
	return trigger.Send(stateDir, name, now, NewRunID(now))
}
