package onboarding

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/mobileatwork/mobileatwork/internal/atomicfile"
)

// The daemon runs as root and keeps its state in a root-only directory; the
// kiosk runs in the console user's GUI session (a LaunchAgent), never as
// root, because a root process has no window server connection and a
// window it opens never appears. The two meet like this:
//
//   - the daemon serves the progress page on loopback behind a random
//     per-run secret (internal/localweb);
//   - it hands the page's address, secret included, to that user only: a
//     file named after the uid in SessionDir, a root-owned 0755 directory
//     on the boot-time-cleared /var/run (macOS) or /run (Linux), the file
//     owned by the user and 0600. Nobody else can read it, and since only
//     root can write in the directory, the user cannot plant a link there
//     for the daemon to write through: the daemon writes a temp file in
//     that same directory and renames it over the name;
//   - the file also names the boot it was written in, so a file that
//     survived a reboot (a directory that is not cleared, a restored
//     backup) is refused rather than replayed: the kiosk never blocks the
//     user for an onboarding that is over, and it asks the live page for
//     the state before it shows anything.
//
// The same file offers Apps@Work, which the daemon serves for as long as it
// runs: CatalogURL, with the device id so that the user's side opens the
// catalog once per enrollment. Both fields are optional, so a file of an
// earlier version (progress page only) still reads, and a reader of an
// earlier version sees a catalog-only file as "no onboarding".

// ErrNoSession is returned when the daemon offers no page to the user.
var ErrNoSession = errors.New("no page offered to this user")

// ErrStaleSession is returned for a session file of an earlier boot.
var ErrStaleSession = errors.New("onboarding session file is from an earlier boot")

// UISession tells the console user's session where the daemon's pages are.
type UISession struct {
	// URL is the onboarding progress page, secret included; "" when no
	// onboarding runs.
	URL string `json:"url"`
	// CatalogURL is Apps@Work, secret included; "" when not served.
	CatalogURL string `json:"catalog_url,omitempty"`
	// DeviceID names the enrollment the pages belong to.
	DeviceID  string    `json:"device_id,omitempty"`
	BootID    string    `json:"boot_id"`
	PID       int       `json:"pid"`
	WrittenAt time.Time `json:"written_at"`
}

func sessionPath(dir string, uid int) string {
	return filepath.Join(dir, strconv.Itoa(uid)+".json")
}

// WriteUISession hands s to the user uid, readable by that user alone.
func WriteUISession(dir string, uid int, s UISession) (err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("session directory %s: %w", dir, err)
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("session directory %s: %w", dir, err)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); !fi.IsDir() || !ok || int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("session directory %s: not a directory of this user (a link or someone else's)", dir)
	}
	if fi.Mode().Perm() != 0o755 {
		if err := os.Chmod(dir, 0o755); err != nil {
			return fmt.Errorf("session directory %s: %w", dir, err)
		}
	}
	b, err := jsonBytes(s)
	if err != nil {
		return err
	}
	f, err := atomicfile.Create(dir, "session", 0o600)
	if err != nil {
		return fmt.Errorf("write session: %w", err)
	}
	defer f.Abort()
	if uid != os.Geteuid() {
		if err := f.Chown(uid, -1); err != nil {
			return fmt.Errorf("write session: give it to uid %d: %w", uid, err)
		}
	}
	if _, err := f.Write(b); err != nil {
		return fmt.Errorf("write session: %w", err)
	}
	if err := f.Commit(sessionPath(dir, uid)); err != nil {
		return fmt.Errorf("write session: %w", err)
	}
	return nil
}

// ReadUISession returns the session offered to uid in this boot.
func ReadUISession(dir string, uid int, bootID string) (UISession, error) {
	var s UISession
	err := atomicfile.ReadJSON(sessionPath(dir, uid), &s)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return UISession{}, ErrNoSession
	case err != nil:
		return UISession{}, fmt.Errorf("read session: %w", err)
	case s.URL == "" && s.CatalogURL == "":
		return UISession{}, ErrNoSession
	case bootID != "" && s.BootID != bootID:
		return UISession{}, fmt.Errorf("%w (written %s)", ErrStaleSession, s.WrittenAt.Format(time.RFC3339))
	}
	return s, nil
}

// Onboarding reports whether the offer includes an onboarding page.
func (s UISession) Onboarding() bool { return s.URL != "" }

// RemoveUISession withdraws the pages from uid; a missing file is fine.
func RemoveUISession(dir string, uid int) error {
	if err := os.Remove(sessionPath(dir, uid)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove session: %w", err)
	}
	return nil
}
