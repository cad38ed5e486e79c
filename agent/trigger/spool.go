package trigger

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mobileatwork/mobileatwork/internal/atomicfile"
	"github.com/mobileatwork/mobileatwork/protocol/schedule"
)

// SpoolDir is the directory of the state directory where `mobileatwork
// event` leaves its events for the daemon: one file each, so the command
// needs neither the daemon nor its state lock.
const SpoolDir = "events"

// maxSpooled bounds what is read of one spooled file.
const maxSpooled = 4 << 10

// spooled is one event waiting in the spool.
type spooled struct {
	Name string    `json:"name"`
	At   time.Time `json:"at"`
}

// Send leaves the named event, which happened at at, in the spool of
// stateDir. The file appears whole or not at all (temp file, fsync,
// rename), under a name no other event takes.
func Send(stateDir, name string, at time.Time, id string) error {
	if err := schedule.ValidEventName(name); err != nil {
		return err
	}
	dir := filepath.Join(stateDir, SpoolDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("event spool: %w", err)
	}
	b, err := json.Marshal(spooled{Name: name, At: at.UTC()})
	if err != nil {
		return err
	}
	f, err := atomicfile.Create(dir, id, 0o600)
	if err != nil {
		return fmt.Errorf("event spool: %w", err)
	}
	defer f.Abort()
	if _, err := f.Write(b); err != nil {
		return fmt.Errorf("event spool: %w", err)
	}
	if err := f.CommitNew(filepath.Join(dir, id+".json")); err != nil {
		return fmt.Errorf("event spool: %w", err)
	}
	return nil
}

// Consume records every event waiting in the spool of stateDir and then
// removes its file, so a crash between the two records it again, which
// changes nothing. An event stamped after now counts at now. A file that
// is not a valid event is removed and reported in the error. It returns
// how many occurrences it recorded.
func (r *Record) Consume(stateDir string, now time.Time) (int, error) {
	dir := filepath.Join(stateDir, SpoolDir)
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	} else if err != nil {
		return 0, fmt.Errorf("event spool: %w", err)
	}
	n := 0
	var errs []error
	for _, e := range ents {
		name := e.Name()
		if !e.Type().IsRegular() || atomicfile.IsTemp(name) || !strings.HasSuffix(name, ".json") {
			continue
		}
		path := filepath.Join(dir, name)
		ev, err := readSpooled(path)
		if err == nil {
			var recorded bool
			if recorded, err = r.Event(ev.Name, earlier(ev.At, now)); err != nil {
				errs = append(errs, err)
				continue // kept: recorded at the next look
			} else if recorded {
				n++
			}
		} else {
			errs = append(errs, fmt.Errorf("event %s refused: %w", name, err))
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("event spool: %w", err))
		}
	}
	return n, errors.Join(errs...)
}

// earlier is the earlier of two instants.
func earlier(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func readSpooled(path string) (spooled, error) {
	var ev spooled
	f, err := os.Open(path)
	if err != nil {
		return ev, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSpooled+1))
	switch {
	case err != nil:
		return ev, err
	case len(b) > maxSpooled:
		return ev, fmt.Errorf("over %d bytes", maxSpooled)
	}
	if err := json.Unmarshal(b, &ev); err != nil {
		return ev, err
	}
	if ev.At.IsZero() {
		return ev, errors.New("no time")
	}
	return ev, schedule.ValidEventName(ev.Name)
}
