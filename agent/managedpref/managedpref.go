// Package managedpref reads the agent's managed preference: the ServerURL
// and EnrollmentToken an MDM profile (payload com.mobileatwork.agent) gives
// the Mac, which macOS writes as a property list under /Library/Managed
// Preferences. The profile often arrives after the package, so the daemon
// reads it again while it waits to be enrolled, not only the postinstall.
package managedpref

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"

	"github.com/micromdm/plist"
)

// MaxSize bounds the file read: the preference holds two short strings.
const MaxSize = 64 << 10

// ErrUntrusted refuses a file that someone other than the daemon's user
// (root) could have written.
var ErrUntrusted = errors.New("managed preference not trusted")

// Enrollment is what the profile gives.
type Enrollment struct {
	ServerURL string `plist:"ServerURL"`
	Token     string `plist:"EnrollmentToken"`
}

// Read reads the preference at path. A missing file is an error that
// wraps fs.ErrNotExist: there is nothing yet. Only a regular file of the
// daemon's user that nobody else may write is read (checked on the opened
// file, never through a link), at most MaxSize bytes.
func Read(path string) (Enrollment, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if errors.Is(err, syscall.ELOOP) {
		return Enrollment{}, fmt.Errorf("managed preference %s: %w: a symbolic link", path, ErrUntrusted)
	}
	if err != nil {
		return Enrollment{}, fmt.Errorf("managed preference: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Enrollment{}, fmt.Errorf("managed preference: %w", err)
	}
	if err := trusted(fi); err != nil {
		return Enrollment{}, fmt.Errorf("managed preference %s: %w", path, err)
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return Enrollment{}, fmt.Errorf("managed preference: %w", err)
	}
	if len(b) > MaxSize {
		return Enrollment{}, fmt.Errorf("managed preference %s: larger than %d bytes", path, MaxSize)
	}
	var e Enrollment
	if err := plist.Unmarshal(b, &e); err != nil {
		return Enrollment{}, fmt.Errorf("managed preference %s: %w", path, err)
	}
	if e.ServerURL == "" || e.Token == "" {
		return Enrollment{}, fmt.Errorf("managed preference %s: ServerURL and EnrollmentToken are both needed", path)
	}
	return e, nil
}

func trusted(fi fs.FileInfo) error {
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%w: not a regular file", ErrUntrusted)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("%w: owned by uid %d", ErrUntrusted, st.Uid)
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("%w: mode %s lets others write it", ErrUntrusted, fi.Mode().Perm())
	}
	return nil
}
