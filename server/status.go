package server

import (
	"fmt"
	"time"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// DetailNoMobileAtWork is the error detail of a script configuration on a
// device that no Mobile@Work configuration reaches (product documentation).
const DetailNoMobileAtWork = "no Mobile@Work configuration is distributed to this device"

// role is what a configuration is on one device after a check-in.
type role int

const (
	roleInEffect   role = iota // the best Mobile@Work configuration reaching it
	roleSuperseded             // a Mobile@Work configuration another one beats
	roleScript                 // a script configuration, delivered
	roleNoMAW                  // a script configuration, held back: no Mobile@Work configuration
	roleNoTriggers             // a triggered script configuration, held back: the agent lacks triggers
)

// delivered is the status a configuration has on a device once a check-in
// handed it over in the given role. prev is what the server held (nil when
// nothing), latest the newest result of this version (nil when none), next
// the next scheduled run (zero for run-once or when none is left), winner
// the Mobile@Work configuration in effect. It keeps prev, and its time,
// when the status does not change.
func delivered(prev *store.DeviceStatus, c store.Configuration, r role, winner *store.Configuration, latest *store.StoredResult, next, now time.Time) store.DeviceStatus {
	st := store.DeviceStatus{ConfigID: c.ID, Version: c.Version, NextRun: next}
	switch r {
	case roleInEffect:
		st.Status, st.Detail = store.StatusInstalled, fmt.Sprintf("in effect (priority %d)", c.Priority)
		st.NextRun = time.Time{}
	case roleSuperseded:
		st.Status, st.Detail = store.StatusSuperseded, fmt.Sprintf("%q (priority %d) is in effect", winner.Name, winner.Priority)
		st.NextRun = time.Time{}
	case roleNoMAW:
		st.Status, st.Detail = store.StatusError, DetailNoMobileAtWork
		st.NextRun = time.Time{}
	case roleNoTriggers:
		st.Status, st.Detail = store.StatusError, DetailNoTriggers
		st.NextRun = time.Time{}
	case roleScript:
		switch {
		case prev != nil && prev.Version == c.Version && ranOrRunning(*prev):
			st.Status, st.Detail = prev.Status, prev.Detail
		case latest != nil:
			st.Status, st.Detail = resultStatus(latest.Result)
		case next.IsZero() && c.Script.Schedule.Recurring():
			st.Status, st.Detail = store.StatusScheduled, "no run left in the schedule's dates"
		case c.Script.Schedule.Triggered():
			st.Status, st.Detail = store.StatusScheduled, "delivered: runs "+c.Script.Schedule.String()
		case !next.IsZero():
			st.Status, st.Detail = store.StatusScheduled, "next run "+next.UTC().Format(time.RFC3339)
		default:
			st.Status, st.Detail = store.StatusScheduled, "delivered: runs now"
		}
	}
	st.UpdatedAt = now
	if prev != nil && prev.Status == st.Status && prev.Detail == st.Detail && prev.Version == st.Version {
		st.UpdatedAt = prev.UpdatedAt
	}
	return st
}

// ranOrRunning tells whether a status came from the device running the
// configuration, or from a cancel of it (which stands for the run), as
// opposed to the server's own view of it.
func ranOrRunning(st store.DeviceStatus) bool {
	switch st.Status {
	case store.StatusRunning, protocol.StatusSucceeded, protocol.StatusFailed, protocol.StatusTimedOut, protocol.StatusRejected,
		store.StatusCancelled, store.StatusCancelling:
		return true
	case protocol.StatusError:
		return st.Detail != DetailNoMobileAtWork && st.Detail != DetailNoTriggers
	}
	return false
}

// DetailWaitingPrefix starts the detail of a run that waits for a
// condition (no console user yet): it is not finished.
const DetailWaitingPrefix = "waiting: "

// resultStatus is the status and detail a run's result gives its
// configuration on the device.
func resultStatus(r protocol.Result) (string, string) {
	if r.Waiting != "" {
		return r.Status, DetailWaitingPrefix + r.Error
	}
	return r.Status, withAttempt(r, outcome(r))
}

// outcome says how a run ended, for its status detail.
func outcome(r protocol.Result) string {
	switch r.Status {
	case protocol.StatusSucceeded:
		return fmt.Sprintf("exit 0 in %s", time.Duration(r.DurationMS)*time.Millisecond)
	case protocol.StatusFailed:
		return fmt.Sprintf("exit %d", r.ExitCode)
	case protocol.StatusTimedOut:
		return fmt.Sprintf("stopped after %s", time.Duration(r.DurationMS)*time.Millisecond)
	}
	return r.Error
}

// changed tells whether a status must be written.
func changed(prev *store.DeviceStatus, st store.DeviceStatus) bool {
	return prev == nil || prev.Version != st.Version || prev.Status != st.Status || prev.Detail != st.Detail ||
		!prev.NextRun.Equal(st.NextRun)
}
