// Package trigger keeps the durable record of what the device observed
// that scripts may run on: console logins, network changes and named
// events, with the baselines they are measured against, so that a restart
// is neither a login nor a network change. It decides nothing about
// assignments: the agent compares each assignment's last handled
// occurrence with Last.
package trigger

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/mobileatwork/mobileatwork/internal/atomicfile"
	"github.com/mobileatwork/mobileatwork/protocol/schedule"
)

// File is the record's name in the state directory.
const File = "triggers.json"

// state is what the record keeps on disk.
type state struct {
	// Occurrences holds the latest occurrence of each trigger, by Key.
	Occurrences map[string]time.Time `json:"occurrences,omitempty"`
	// ConsoleUser is the console user last seen ("" for nobody); nil
	// until the first look, which is a baseline, not a login.
	ConsoleUser *string `json:"console_user,omitempty"`
	// Addresses is the baseline of network addresses, sorted; nil until
	// the first look.
	Addresses []string `json:"addresses,omitempty"`
	// AddressesKnown tells an empty baseline from none.
	AddressesKnown bool `json:"addresses_known,omitempty"`
}

// Record is the durable record of trigger occurrences.
type Record struct {
	mu   sync.Mutex
	path string
	st   state
	// A change of addresses waits until it has held for the debounce:
	// pending is the set seen, since when.
	pending      []string
	pendingSince time.Time
}

// Open loads the record at path; a missing file is an empty record.
func Open(path string) (*Record, error) {
	r := &Record{path: path}
	if err := atomicfile.ReadJSON(path, &r.st); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("open trigger record: %w", err)
	}
	return r, nil
}

// Key names the trigger of s in the record: "login", "network" or
// "event:NAME"; "" when s has no observed trigger (enrollment's occurrence
// is the enrollment itself).
func Key(s schedule.Spec) string {
	switch s.Kind {
	case schedule.Login, schedule.Network:
		return s.Kind
	case schedule.Event:
		return eventKey(s.Event)
	}
	return ""
}

func eventKey(name string) string { return schedule.Event + ":" + name }

// Last is the latest occurrence of the trigger key, zero when none.
func (r *Record) Last(key string) time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.st.Occurrences[key]
}

// save writes the record; on failure the caller's change is undone by
// restoring old, so memory never runs ahead of the disk.
func (r *Record) save(old state) error {
	if err := atomicfile.WriteJSON(r.path, r.st, 0o600); err != nil {
		r.st = old
		return fmt.Errorf("save trigger record: %w", err)
	}
	return nil
}

// clone copies st deeply enough to restore it.
func (st state) clone() state {
	c := st
	c.Occurrences = make(map[string]time.Time, len(st.Occurrences))
	for k, v := range st.Occurrences {
		c.Occurrences[k] = v
	}
	if st.ConsoleUser != nil {
		u := *st.ConsoleUser
		c.ConsoleUser = &u
	}
	c.Addresses = slices.Clone(st.Addresses)
	return c
}

func (r *Record) occurred(key string, at time.Time) {
	if r.st.Occurrences == nil {
		r.st.Occurrences = map[string]time.Time{}
	}
	r.st.Occurrences[key] = at.UTC()
}

// ConsoleUser notes who is at the console now ("" for nobody) and reports
// a login: a user who was not there at the previous look. The first look
// ever only sets the baseline, and a restart with the same user still
// logged in is no login, since the last user seen is kept.
func (r *Record) ConsoleUser(name string, now time.Time) (login bool, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	prev := r.st.ConsoleUser
	if prev != nil && *prev == name {
		return false, nil
	}
	old := r.st.clone()
	login = prev != nil && name != ""
	if login {
		r.occurred(schedule.Login, now)
	}
	r.st.ConsoleUser = &name
	if err := r.save(old); err != nil {
		return false, err
	}
	return login, nil
}

// Addresses notes the machine's network addresses now and reports a
// network change: a set that differs from the baseline and has held for
// debounce (an interface coming up takes a few steps). The first look
// ever only sets the baseline; a restart compares with the one kept.
func (r *Record) Addresses(addrs []string, now time.Time, debounce time.Duration) (changed bool, err error) {
	addrs = slices.Compact(slices.Sorted(slices.Values(addrs)))
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.st.clone()
	switch {
	case !r.st.AddressesKnown:
		r.st.Addresses, r.st.AddressesKnown = addrs, true
		return false, r.save(old)
	case slices.Equal(addrs, r.st.Addresses):
		r.pending = nil
		return false, nil
	case r.pending == nil || !slices.Equal(addrs, r.pending):
		r.pending, r.pendingSince = addrs, now
		return false, nil
	case now.Sub(r.pendingSince) < debounce:
		return false, nil
	}
	r.occurred(schedule.Network, now)
	r.st.Addresses, r.pending = addrs, nil
	if err := r.save(old); err != nil {
		return false, err
	}
	return true, nil
}

// Event records an occurrence of the named event at at, unless a later
// one is recorded already (a spool read twice after a crash changes
// nothing).
func (r *Record) Event(name string, at time.Time) (recorded bool, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	key := eventKey(name)
	if !at.After(r.st.Occurrences[key]) {
		return false, nil
	}
	old := r.st.clone()
	r.occurred(key, at)
	if err := r.save(old); err != nil {
		return false, err
	}
	return true, nil
}
