package server

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// DetailRetryingPrefix starts the detail of a run whose agent tries again
// (its result has a RetryAt): like a waiting run, it is not finished.
const DetailRetryingPrefix = "retrying: "

// applyRetries checks `--retries` and writes it into c; nil keeps what c has.
func applyRetries(c *store.Configuration, n *int) error {
	if n == nil {
		return nil
	}
	if *n < 0 || *n > protocol.MaxRetries {
		return invalid("--retries %d: want 0 (run once) to %d", *n, protocol.MaxRetries)
	}
	c.Script.Retries = *n
	return nil
}

// retriesOn is how many retries the device is told of: none for agents
// that do not announce them, which run once as before.
func retriesOn(c store.Configuration, d store.Device) int {
	if !slices.Contains(d.Capabilities, protocol.CapRetries) {
		return 0
	}
	return c.Script.Retries
}

// reportsStarts tells whether the device posts RunStarted when a script
// starts; for the others, fetching the script stands for its start.
func reportsStarts(d store.Device) bool {
	return slices.Contains(d.Capabilities, protocol.CapRunStarted)
}

// runOpen tells whether a status reports a run that is not over: it waits
// for a console user, or its agent tries again.
func runOpen(st store.DeviceStatus) bool {
	return strings.HasPrefix(st.Detail, DetailWaitingPrefix) || strings.HasPrefix(st.Detail, DetailRetryingPrefix)
}

// withAttempt adds to how a run ended (what) which attempt it was and,
// when another follows, when.
func withAttempt(r protocol.Result, what string) string {
	if !r.RetryAt.IsZero() {
		verb := map[string]string{protocol.StatusFailed: "failed", protocol.StatusTimedOut: "timed out"}[r.Status]
		if verb == "" {
			verb = "ended in " + r.Status
		}
		if what != "" {
			verb += " (" + what + ")"
		}
		return fmt.Sprintf("%sattempt %d %s; next at %s", DetailRetryingPrefix, r.Attempt, verb, r.RetryAt.UTC().Format(time.RFC3339))
	}
	if r.Attempt > 1 {
		return fmt.Sprintf("%s (attempt %d)", what, r.Attempt)
	}
	return what
}

// Attempts follows the attempts of a run on each device, which are running
// and which results were reported: the news `run --wait` prints as it reads
// the run again and again.
type Attempts struct {
	running  map[string]bool      // by device: the running attempt was reported
	retried  map[string]time.Time // by device: when its latest result that announced a retry arrived
	reported map[string]bool      // run ids whose result was reported
}

// StartedNow tells whether a device's status (running, updated at) reports
// an attempt as running that was not reported yet: one that started after
// the latest result the device sent, not that result's own stale status.
func (a *Attempts) StartedNow(deviceID, status string, updatedAt time.Time) bool {
	if status != store.StatusRunning || a.running[deviceID] || !updatedAt.After(a.retried[deviceID]) {
		return false
	}
	if a.running == nil {
		a.running = map[string]bool{}
	}
	a.running[deviceID] = true
	return true
}

// Ended tells whether run runID's result is one not reported yet, and
// notes it: after one that announces a retry (retryAt set), the next
// attempt's start is news again.
func (a *Attempts) Ended(runID, deviceID string, retryAt, receivedAt time.Time) bool {
	if a.reported[runID] {
		return false
	}
	if a.reported == nil {
		a.reported, a.retried = map[string]bool{}, map[string]time.Time{}
	}
	a.reported[runID] = true
	if !retryAt.IsZero() {
		delete(a.running, deviceID)
		a.retried[deviceID] = receivedAt
	}
	return true
}
