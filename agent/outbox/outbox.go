// Package outbox keeps run results durably until the server acknowledges
// them: one file per result, written with temp file + fsync + rename, so a
// crash or an outage never loses a result. Results carry their run id as an
// idempotency key; the server ignores a second delivery.
package outbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/mobileatwork/mobileatwork/internal/atomicfile"
	"github.com/mobileatwork/mobileatwork/protocol"
)

// ErrBadRunID is returned for a run id that cannot name a file safely.
var ErrBadRunID = errors.New("invalid run id")

// runIDChars is what a run id is made of; its length (1 to 128) is
// checked apart, as a bounded repetition compiles to a state per count.
var runIDChars = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

func validRunID(id string) bool { return len(id) <= 128 && runIDChars.MatchString(id) }

const suffix = ".json"

// Outbox is a directory of pending results.
type Outbox struct {
	dir   string
	write func(name string, data []byte, mode os.FileMode) error
}

// Open makes the directory (0700) if needed.
func Open(dir string) (*Outbox, error) { return OpenWith(dir, atomicfile.WriteFile) }

// OpenWith is Open with the function that writes a result durably, which
// tests replace to play a full disk.
func OpenWith(dir string, write func(name string, data []byte, mode os.FileMode) error) (*Outbox, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open outbox: %w", err)
	}
	return &Outbox{dir: dir, write: write}, nil
}

func (o *Outbox) path(runID string) (string, error) {
	if !validRunID(runID) {
		return "", fmt.Errorf("%w %q", ErrBadRunID, runID)
	}
	return filepath.Join(o.dir, runID+suffix), nil
}

// Put stores a result durably; putting the same run id again replaces it.
// A result larger on the wire than protocol.MaxResultBytes is stored with
// its outputs cut to fit, so that every queued result can be delivered.
func (o *Outbox) Put(r protocol.Result) error {
	p, err := o.path(r.RunID)
	if err != nil {
		return err
	}
	r = protocol.FitResult(r, protocol.MaxResultBytes)
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode result %s: %w", r.RunID, err)
	}
	return o.write(p, b, 0o600)
}

// Has tells whether a result with this run id is pending.
func (o *Outbox) Has(runID string) bool {
	p, err := o.path(runID)
	if err != nil {
		return false
	}
	_, err = os.Stat(p)
	return err == nil
}

// Pending returns the queued results in run id order (run ids start with a
// timestamp, so this is the order they ran). A file that cannot be decoded is
// moved aside as .bad so it does not block delivery of the others.
func (o *Outbox) Pending() ([]protocol.Result, error) {
	ents, err := os.ReadDir(o.dir)
	if err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	var names []string
	for _, e := range ents {
		if n := e.Name(); strings.HasSuffix(n, suffix) && !strings.HasPrefix(n, ".") {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	out := make([]protocol.Result, 0, len(names))
	var errs []error
	for _, n := range names {
		var r protocol.Result
		if err := atomicfile.ReadJSON(filepath.Join(o.dir, n), &r); err != nil {
			errs = append(errs, err)
			os.Rename(filepath.Join(o.dir, n), filepath.Join(o.dir, n+".bad"))
			continue
		}
		out = append(out, r)
	}
	return out, errors.Join(errs...)
}

// Len counts the queued results.
func (o *Outbox) Len() int {
	ents, _ := os.ReadDir(o.dir)
	n := 0
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), suffix) && !strings.HasPrefix(e.Name(), ".") {
			n++
		}
	}
	return n
}

// refusedSuffix names, hidden from Pending, a result the server refused,
// kept for whoever investigates.
const refusedSuffix = ".refused"

// Quarantine sets a refused result aside for good, where Pending does not
// see it, and queues replacement (same run id) in its place; a nil
// replacement queues nothing.
func (o *Outbox) Quarantine(runID string, replacement *protocol.Result) error {
	p, err := o.path(runID)
	if err != nil {
		return err
	}
	aside := filepath.Join(o.dir, "."+runID+refusedSuffix)
	if err := os.Rename(p, aside); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("quarantine %s: %w", runID, err)
	}
	if replacement != nil {
		return o.Put(*replacement)
	}
	return atomicfile.SyncDir(o.dir)
}

// Ack removes results the server holds.
func (o *Outbox) Ack(runIDs []string) error {
	var errs []error
	for _, id := range runIDs {
		p, err := o.path(id)
		if err != nil {
			continue // the server echoed something we never sent
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("ack %s: %w", id, err))
		}
	}
	if err := atomicfile.SyncDir(o.dir); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
