// Package managedpref reads the agent's managed preference: the ServerURL
// and EnrollmentToken an MDM profile (payload com.mobileatwork.agent) gives
// the Mac, which macOS writes as a property list under /Library/Managed
// Preferences. The profile often arrives after the package, so the daemon
// reads it again while it waits to be enrolled, not only the postinstall.
package managedpref

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"

	"github.com/micromdm/plist"

	"github.com/mobileatwork/mobileatwork/internal/safefile"
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
	f, _, err := safefile.Open(path, trusted)
	if errors.Is(err, fs.ErrNotExist) {
		return Enrollment{}, fmt.Errorf("managed preference: %w", err)
	}
	if err != nil {
		return Enrollment{}, fmt.Errorf("managed preference %s: %w", path, untrusted(err))
	}
	defer f.Close()
	b, err := safefile.ReadAll(f, MaxSize)
	if err != nil {
		return Enrollment{}, fmt.Errorf("managed preference %s: %w", path, err)
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

// untrusted marks the refusals of safefile as ErrUntrusted: a link or a
// file that is not regular is nothing the daemon reads.
func untrusted(err error) error {
	if errors.Is(err, safefile.ErrLink) || errors.Is(err, safefile.ErrNotRegular) {
		return fmt.Errorf("%w: %w", ErrUntrusted, err)
	}
	return err
}

func trusted(fi fs.FileInfo) error {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("%w: owned by uid %d", ErrUntrusted, st.Uid)
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("%w: mode %s lets others write it", ErrUntrusted, fi.Mode().Perm())
	}
	return nil
}
