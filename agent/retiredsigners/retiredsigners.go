// Package retiredsigners keeps the fingerprints of the signing certificates
// the tenant retired, which the agent refuses whatever their chain says. The
// set only grows: an answer that lists fewer (an older one, or one from a
// server restored from an old backup) removes nothing, so no replay can
// bring a retired key back.
package retiredsigners

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"sync"

	"github.com/mobileatwork/mobileatwork/internal/atomicfile"
	"github.com/mobileatwork/mobileatwork/protocol"
)

// Set is the retired signers, kept in one file. Safe for concurrent use.
type Set struct {
	path string
	mu   sync.Mutex
	fps  []string // sorted
}

// file is what the set's file holds.
type file struct {
	Fingerprints []string `json:"fingerprints"`
}

// Open reads the set kept at path; an absent file is an empty set. A file
// that does not parse is an error: starting empty would trust again what
// was retired.
func Open(path string) (*Set, error) {
	s := &Set{path: path}
	var f file
	if err := atomicfile.ReadJSON(path, &f); errors.Is(err, fs.ErrNotExist) {
		return s, nil
	} else if err != nil {
		return nil, fmt.Errorf("read retired signers: %w", err)
	}
	if err := protocol.CheckFingerprints(f.Fingerprints); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	s.fps = slices.Sorted(slices.Values(f.Fingerprints))
	s.fps = slices.Compact(s.fps)
	return s, nil
}

// Has tells whether fingerprint was retired. A nil set has none.
func (s *Set) Has(fingerprint string) bool {
	if s == nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := slices.BinarySearch(s.fps, fingerprint)
	return ok
}

// Len is how many signers are retired.
func (s *Set) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.fps)
}

// Add merges fps, from a verified answer, into the set and writes it
// durably (0600) when it grew; it returns how many were new. A list that
// is malformed changes nothing. When the write fails the new entries are
// still refused until the agent stops, and the next answer listing them
// writes them again.
func (s *Set) Add(fps []string) (int, error) {
	if err := protocol.CheckFingerprints(fps); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, fp := range fps {
		if i, ok := slices.BinarySearch(s.fps, fp); !ok {
			s.fps = slices.Insert(s.fps, i, fp)
			n++
		}
	}
	if n == 0 {
		return 0, nil
	}
	if len(s.fps) > protocol.MaxRetiredSigners {
		// Never drop one: refuse to keep more rather than forget.
		return n, fmt.Errorf("retired signers: %d kept, at most %d written", len(s.fps), protocol.MaxRetiredSigners)
	}
	if err := atomicfile.WriteJSON(s.path, file{Fingerprints: s.fps}, 0o600); err != nil {
		return n, fmt.Errorf("keep retired signers: %w", err)
	}
	return n, nil
}
