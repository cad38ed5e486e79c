// Package managed records the apps the agent installed, so that an uninstall
// can remove exactly those and nothing the user or another tool put there.
//
// The record is one JSON file in the state directory:
//
//	{
//	  "version": 1,
//	  "apps": [
//	    {"path": "/Applications/Slack.app", "package_ids": ["com.tinyspeck.slackmacgap"],
//	     "bundle_id": "com.tinyspeck.slackmacgap", "installed_at": "2026-11-27T12:00:00Z"}
//	  ]
//	}
//
// Paths are absolute paths on the device (never prefixed by a test root).
package managed

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/mobileatwork/mobileatwork/internal/atomicfile"
)

// FileName is the record's name inside the state directory.
const FileName = "managed-apps.json"

// formatVersion is bumped on an incompatible change of the file.
const formatVersion = 1

// Sentinel errors, tested with errors.Is.
var (
	ErrInvalidPath      = errors.New("managed app path must be an absolute, clean path of an .app bundle")
	ErrInvalidPackageID = errors.New("invalid package identifier")
	ErrFormat           = errors.New("unsupported managed-apps.json version")
)

// App is one app the agent installed.
type App struct {
	// Path is the installed bundle, e.g. /Applications/Slack.app.
	Path string `json:"path"`
	// PackageIDs are the receipts its installer left, forgotten with the app.
	PackageIDs  []string  `json:"package_ids,omitempty"`
	BundleID    string    `json:"bundle_id,omitempty"`
	InstalledAt time.Time `json:"installed_at"`
}

type file struct {
	Version int   `json:"version"`
	Apps    []App `json:"apps"`
}

// packageIDRE is what Installer accepts in practice (reverse DNS); it also
// keeps identifiers safe as receipt file names and command arguments. The
// length is checked apart: a bounded repetition of 254 compiles to as many
// states, which cost every start of the agent 5 ms.
var packageIDRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// maxPackageID is the longest identifier accepted, a file name's limit.
const maxPackageID = 255

// ValidPackageID reports whether id may name a receipt.
func ValidPackageID(id string) bool {
	return len(id) <= maxPackageID && packageIDRE.MatchString(id) && !strings.Contains(id, "..")
}

// Validate checks an entry before it is recorded or acted on.
func (a App) Validate() error {
	if !path.IsAbs(a.Path) || path.Clean(a.Path) != a.Path || !strings.HasSuffix(a.Path, ".app") || a.Path == "/.app" {
		return fmt.Errorf("%w: %q", ErrInvalidPath, a.Path)
	}
	for _, id := range a.PackageIDs {
		if !ValidPackageID(id) {
			return fmt.Errorf("%w: %q", ErrInvalidPackageID, id)
		}
	}
	return nil
}

// mu serialises Record within the process; the daemon is the only writer.
var mu sync.Mutex

// Load returns the recorded apps of the state directory; a missing file is
// an empty list.
func Load(stateDir string) ([]App, error) {
	var f file
	err := atomicfile.ReadJSON(filepath.Join(stateDir, FileName), &f)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read managed apps: %w", err)
	}
	if f.Version != formatVersion {
		return nil, fmt.Errorf("read managed apps: %w %d (want %d)", ErrFormat, f.Version, formatVersion)
	}
	return f.Apps, nil
}

// Record adds app to the list, or replaces the entry with the same path (a
// reinstall or an update), durably.
func Record(stateDir string, app App) error {
	if err := app.Validate(); err != nil {
		return fmt.Errorf("record managed app: %w", err)
	}
	mu.Lock()
	defer mu.Unlock()
	apps, err := Load(stateDir)
	if err != nil {
		return err
	}
	replaced := false
	for i := range apps {
		if apps[i].Path == app.Path {
			apps[i], replaced = app, true
		}
	}
	if !replaced {
		apps = append(apps, app)
	}
	if err := atomicfile.WriteJSON(filepath.Join(stateDir, FileName), file{Version: formatVersion, Apps: apps}, 0o600); err != nil {
		return fmt.Errorf("record managed app: %w", err)
	}
	return nil
}
