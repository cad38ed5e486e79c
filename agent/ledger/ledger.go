// Package ledger remembers, per assignment, what the agent has run, so that a
// run-once script runs at most once and a schedule runs each occurrence once,
// across restarts and crashes. "Started" is written durably before a script
// runs; a run found started but never finished after a restart was
// interrupted, and is reported, not run again.
package ledger

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/mobileatwork/mobileatwork/internal/atomicfile"
)

// Started marks a run in progress.
type Started struct {
	RunID      string    `json:"run_id"`
	Occurrence time.Time `json:"occurrence,omitempty"`
	At         time.Time `json:"at"`
	// ScriptSHA256 is the verified body that started, so a run the agent
	// did not live to finish is still reported with what ran.
	ScriptSHA256 string `json:"script_sha256,omitempty"`
	// RunToken marks the run's processes (executor.RunTokenVar), so that
	// after a crash the agent can stop what the run left behind.
	RunToken string `json:"run_token,omitempty"`
	// Attempt is the attempt that started (0: an assignment without retries).
	Attempt int `json:"attempt,omitempty"`
}

// Retry keeps an occurrence open after a failed attempt: the next attempt
// runs at At. Beside Started, it is what that attempt's result announced,
// written before the result is queued.
type Retry struct {
	Attempt    int       `json:"attempt"` // the attempt that failed
	At         time.Time `json:"at"`
	Occurrence time.Time `json:"occurrence,omitzero"` // zero for run-once
}

// Entry is the state of one assignment on this device.
type Entry struct {
	AssignmentID string `json:"assignment_id"`
	Version      int    `json:"version"`
	// Schedule is the schedule this entry follows, as its text; an agent
	// upgrade can turn a run-once into a recurring schedule without a new
	// assignment version.
	Schedule string `json:"schedule"`
	// ReceivedAt is when this version was first seen: occurrences before it
	// are not owed.
	ReceivedAt time.Time `json:"received_at"`
	// Done is set when a run-once assignment has run (or been refused).
	Done bool `json:"done,omitempty"`
	// LastOccurrence is the latest scheduled occurrence handled.
	LastOccurrence time.Time `json:"last_occurrence,omitempty"`
	Started        *Started  `json:"started,omitempty"`
	// Waiting notes a reported condition (e.g. no console user) that is
	// retried silently until it clears, so it is reported once.
	Waiting string `json:"waiting,omitempty"`
	// Retry is set while a failed occurrence waits for its next attempt.
	Retry *Retry `json:"retry,omitempty"`
}

// Ledger is the durable map of entries, kept in one file.
type Ledger struct {
	mu      sync.Mutex
	path    string
	entries map[string]Entry
}

// Open loads the ledger in dir, creating dir (0700) if needed.
func Open(dir string) (*Ledger, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open ledger: %w", err)
	}
	l := &Ledger{path: filepath.Join(dir, "ledger.json"), entries: map[string]Entry{}}
	err := atomicfile.ReadJSON(l.path, &l.entries)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		// Refuse to guess: an unreadable ledger could rerun run-once scripts.
		return nil, fmt.Errorf("open ledger: %w; move the file aside only if re-running run-once scripts is acceptable", err)
	}
	if l.entries == nil {
		l.entries = map[string]Entry{}
	}
	return l, nil
}

// Get returns the entry of an assignment.
func (l *Ledger) Get(id string) (Entry, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.entries[id]
	return e, ok
}

// All returns a copy of every entry.
func (l *Ledger) All() map[string]Entry {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string]Entry, len(l.entries))
	for k, v := range l.entries {
		out[k] = v
	}
	return out
}

// Put stores an entry durably before returning.
func (l *Ledger) Put(e Entry) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	old, had := l.entries[e.AssignmentID]
	l.entries[e.AssignmentID] = e
	if err := atomicfile.WriteJSON(l.path, l.entries, 0o600); err != nil {
		if had {
			l.entries[e.AssignmentID] = old
		} else {
			delete(l.entries, e.AssignmentID)
		}
		return fmt.Errorf("save ledger: %w", err)
	}
	return nil
}

// Observe returns the entry for an assignment version and schedule,
// resetting it when either changed (a changed assignment starts afresh: no
// occurrence before its receipt is owed) and recording the receipt time of a
// new one.
func (l *Ledger) Observe(id string, version int, schedule string, now time.Time) (Entry, error) {
	e, ok := l.Get(id)
	if ok && e.Version == version && e.Schedule == schedule {
		return e, nil
	}
	if ok && e.Started != nil {
		// Keep the in-flight marker: it is settled by recovery, not dropped.
		return e, nil
	}
	e = Entry{AssignmentID: id, Version: version, Schedule: schedule, ReceivedAt: now}
	return e, l.Put(e)
}
