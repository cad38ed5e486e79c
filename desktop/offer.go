// Package desktop is what the agent shows a Mac user: the offer of the
// daemon's local pages to the console user, the hand-off to the UI
// LaunchAgent in that user's GUI login, and the windows (the onboarding
// kiosk, the regular Apps@Work window) that show the pages there.
package desktop

import (
	"encoding/json"
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
//     file named after the uid in DefaultOfferDir, a root-owned 0755 directory
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
//
// Before the Mac is registered, the daemon offers its "Register this Mac"
// page instead (RegisterURL), with no device id; a reader of an earlier
// version sees that file as no offer at all.

// ErrNoOffer is returned when the daemon offers no page to the user.
var ErrNoOffer = errors.New("no page offered to this user")

// ErrStaleOffer is returned for an offer file of an earlier boot.
var ErrStaleOffer = errors.New("the offer file is from an earlier boot")

// Offer tells the console user's session where the daemon's pages are.
type Offer struct {
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
	// RegisterURL is the "Register this Mac" page, secret included, while
	// the device is not enrolled; "" otherwise.
	RegisterURL string `json:"register_url,omitempty"`
}

func offerPath(dir string, uid int) string {
	return filepath.Join(dir, strconv.Itoa(uid)+".json")
}

// WriteOffer hands s to the user uid, readable by that user alone.
func WriteOffer(dir string, uid int, s Offer) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("offer directory %s: %w", dir, err)
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("offer directory %s: %w", dir, err)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); !fi.IsDir() || !ok || int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("offer directory %s: not a directory of this user (a link or someone else's)", dir)
	}
	if fi.Mode().Perm() != 0o755 {
		if err := os.Chmod(dir, 0o755); err != nil {
			return fmt.Errorf("offer directory %s: %w", dir, err)
		}
	}
	b, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("write offer: %w", err)
	}
	f, err := atomicfile.Create(dir, "offer", 0o600)
	if err != nil {
		return fmt.Errorf("write offer: %w", err)
	}
	defer f.Abort()
	if uid != os.Geteuid() {
		if err := f.Chown(uid, -1); err != nil {
			return fmt.Errorf("write offer: give it to uid %d: %w", uid, err)
		}
	}
	if _, err := f.Write(b); err != nil {
		return fmt.Errorf("write offer: %w", err)
	}
	if err := f.Commit(offerPath(dir, uid)); err != nil {
		return fmt.Errorf("write offer: %w", err)
	}
	return nil
}

// ReadOffer returns the offer made to uid in the boot bootID; "" accepts
// any boot.
func ReadOffer(dir string, uid int, bootID string) (Offer, error) {
	var s Offer
	err := atomicfile.ReadJSON(offerPath(dir, uid), &s)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return Offer{}, ErrNoOffer
	case err != nil:
		return Offer{}, fmt.Errorf("read offer: %w", err)
	case s.URL == "" && s.CatalogURL == "" && s.RegisterURL == "":
		return Offer{}, ErrNoOffer
	case bootID != "" && s.BootID != bootID:
		return Offer{}, fmt.Errorf("%w (written %s)", ErrStaleOffer, s.WrittenAt.Format(time.RFC3339))
	}
	return s, nil
}

// Onboarding reports whether the offer includes an onboarding page.
func (s Offer) Onboarding() bool { return s.URL != "" }

// Registration reports whether the offer is the registration page.
func (s Offer) Registration() bool { return s.RegisterURL != "" }

// RemoveOffer withdraws the pages from uid; a missing file is fine.
func RemoveOffer(dir string, uid int) error {
	if err := os.Remove(offerPath(dir, uid)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove offer: %w", err)
	}
	return nil
}
