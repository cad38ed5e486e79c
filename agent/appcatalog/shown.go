package appcatalog

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/mobileatwork/mobileatwork/internal/atomicfile"
)

// ErrBadDeviceID refuses a device id that cannot name a file.
var ErrBadDeviceID = errors.New("device id is not a plain name")

// ShownMarks remembers, in the user's own files, that Apps@Work was opened
// for this user after an enrollment, so that it opens once per enrollment
// and not at every login. The daemon cannot keep this: the user's side
// decides, as that user, and the daemon's state directory is root-only.
type ShownMarks struct {
	// Dir holds one marker file per enrollment (device id).
	Dir string
	// Clock stamps the markers; nil is the real clock.
	Clock clockwork.Clock
}

const shownPrefix = "catalog-shown-"

func (m ShownMarks) path(deviceID string) (string, error) {
	if !plainName(deviceID) {
		return "", fmt.Errorf("%w: %q", ErrBadDeviceID, deviceID)
	}
	return filepath.Join(m.Dir, shownPrefix+deviceID), nil
}

// plainName accepts ids made of letters, digits, '-', '_' and '.', not
// starting with '.', so that an id never walks out of Dir.
func plainName(s string) bool {
	if s == "" || len(s) > 128 || s[0] == '.' {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
		default:
			return false
		}
	}
	return true
}

// Shown reports whether Apps@Work was opened for deviceID.
func (m ShownMarks) Shown(deviceID string) (bool, error) {
	p, err := m.path(deviceID)
	if err != nil {
		return false, err
	}
	switch _, err := os.Lstat(p); {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	default:
		return false, fmt.Errorf("catalog marker: %w", err)
	}
}

// Mark records that Apps@Work was opened for deviceID.
func (m ShownMarks) Mark(deviceID string) error {
	p, err := m.path(deviceID)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(m.Dir, 0o700); err != nil {
		return fmt.Errorf("catalog marker: %w", err)
	}
	clock := m.Clock
	if clock == nil {
		clock = clockwork.NewRealClock()
	}
	if err := atomicfile.WriteFile(p, []byte(clock.Now().UTC().Format(time.RFC3339)+"\n"), 0o600); err != nil {
		return fmt.Errorf("catalog marker: %w", err)
	}
	return nil
}

// Unmark forgets deviceID, so Apps@Work opens again (it could not be shown).
func (m ShownMarks) Unmark(deviceID string) error {
	p, err := m.path(deviceID)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("catalog marker: %w", err)
	}
	return nil
}
