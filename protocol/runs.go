package protocol

import "time"

// PathRunStarted is where the agent says a run has started, just before
// the script runs (mutual TLS).
const PathRunStarted = "/v1/runs/started"

// Capabilities of retries and live progress.
const (
	CapRetries    = "retries"     // tries failed runs again (Assignment.Retries)
	CapRunStarted = "run_started" // posts RunStarted when a script starts
)

// MaxRetries bounds Assignment.Retries.
const MaxRetries = 10

// RunStarted tells the server that a run has started. It is best-effort:
// sent once, never queued; the run's result supersedes it.
type RunStarted struct {
	DeviceID          string `json:"device_id"`
	RunID             string `json:"run_id"`
	AssignmentID      string `json:"assignment_id"`
	AssignmentVersion int    `json:"assignment_version"`
	// Occurrence is the scheduled instant the run belongs to (zero for
	// run-once); Attempt as in Result.
	Occurrence time.Time `json:"occurrence,omitzero"`
	Attempt    int       `json:"attempt,omitempty"`
	StartedAt  time.Time `json:"started_at"`
}

// Retryable tells whether a run that ended as r may be tried again: failed,
// timed out or an error, and only those (never rejected, never a report
// that it waits for a console user). A run the agent did not live to
// finish is reported interrupted and is never tried again.
func Retryable(r Result) bool {
	if r.Waiting != "" {
		return false
	}
	switch r.Status {
	case StatusFailed, StatusTimedOut, StatusError:
		return true
	}
	return false
}
