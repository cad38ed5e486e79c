package agent

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"go.uber.org/zap"
	"golang.org/x/sys/unix"

	"github.com/mobileatwork/mobileatwork/internal/safefile"
	"github.com/mobileatwork/mobileatwork/protocol"
)

// ErrEnrollFile is wrapped by every refusal of an enrollment file: nothing
// was sent and nothing enrolled.
var ErrEnrollFile = errors.New("enrollment file refused")

// FileOwner returns the uid that owns a file; tests replace it.
type FileOwner func(fs.FileInfo) (uid uint32, ok bool)

// EnrollFromFile enrolls with the server URL and token of the enrollment
// file at path and removes the file once enrolled. The file holds a live
// token and was put there by the package as root, so it is trusted only if
// it is a regular file (not a symlink) owned by root with mode 0600 and at
// most protocol.MaxEnrollFileBytes. It stays when enrollment fails, so that
// the daemon tries again at its next start. owner nil is the file's real
// owner. The file is locked while enrolling: the postinstall and the daemon
// may both try at once, and only one must use the token.
func EnrollFromFile(ctx context.Context, path string, owner FileOwner, o EnrollOptions) (*Identity, protocol.EnrollFile, error) {
	f, ef, err := openEnrollFile(path, owner)
	if err != nil {
		return nil, protocol.EnrollFile{}, err
	}
	defer f.Close()
	o.ServerURL, o.Token = ef.ServerURL, ef.Token
	id, err := Enroll(ctx, o)
	if err != nil {
		return nil, ef, err
	}
	if err := os.Remove(path); err != nil {
		return id, ef, fmt.Errorf("enrolled, but remove %s: %w", path, err)
	}
	return id, ef, nil
}

// openEnrollFile opens, locks, checks and parses the enrollment file; the
// checks are made on the opened file (safefile), and again once it is
// locked.
func openEnrollFile(path string, owner FileOwner) (*os.File, protocol.EnrollFile, error) {
	var none protocol.EnrollFile
	if owner == nil {
		owner = fileOwner
	}
	refuse := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrEnrollFile, path, fmt.Sprintf(format, args...))
	}
	f, fi, err := safefile.Open(path, func(fi fs.FileInfo) error { return checkEnrollFileInfo(fi, owner) })
	if errors.Is(err, fs.ErrNotExist) {
		return nil, none, fmt.Errorf("%w: %w", ErrEnrollFile, err)
	}
	if err != nil {
		return nil, none, refuse("%v", err)
	}
	ok := false
	defer func() {
		if !ok {
			f.Close()
		}
	}()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		return nil, none, fmt.Errorf("%w: lock %s: %w", ErrEnrollFile, path, err)
	}
	// The other holder of the lock may have enrolled and removed the file,
	// or something else been put at its path meanwhile.
	now, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, none, refuse("another enrollment used it meanwhile")
	}
	if err != nil || !os.SameFile(now, fi) {
		return nil, none, refuse("it changed while being opened")
	}
	// Its mode or owner may have changed while it waited for the lock.
	if fi, err = f.Stat(); err != nil {
		return nil, none, fmt.Errorf("%w: %w", ErrEnrollFile, err)
	}
	if err := checkEnrollFileInfo(fi, owner); err != nil {
		return nil, none, refuse("%v", err)
	}
	b, err := safefile.ReadAll(f, protocol.MaxEnrollFileBytes)
	if err != nil {
		return nil, none, fmt.Errorf("%w: read %s: %w", ErrEnrollFile, path, err)
	}
	ef, err := protocol.ParseEnrollFile(b)
	if err != nil {
		return nil, none, refuse("%v", err)
	}
	ok = true
	return f, ef, nil
}

func checkEnrollFileInfo(fi fs.FileInfo, owner FileOwner) error {
	switch {
	case fi.Mode().Perm() != 0o600 || fi.Mode()&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky) != 0:
		return fmt.Errorf("has mode %04o, want 0600", fi.Mode().Perm())
	case fi.Size() > protocol.MaxEnrollFileBytes:
		return fmt.Errorf("is %d bytes, more than %d", fi.Size(), protocol.MaxEnrollFileBytes)
	}
	uid, ok := owner(fi)
	if !ok {
		return errors.New("its owner cannot be read")
	}
	if uid != 0 {
		return fmt.Errorf("is owned by uid %d, want root", uid)
	}
	return nil
}

// EnrollAtStart is what the daemon does before it starts when the device is
// not enrolled yet: enroll from the enrollment file the package left behind
// because the server could not be reached at install. It only logs: a
// daemon that is still not enrolled stops as before, and launchd starts it,
// and this, again. owner nil is the file's real owner.
func EnrollAtStart(ctx context.Context, path string, owner FileOwner, o EnrollOptions, log *zap.Logger) {
	if _, err := os.Stat(filepath.Join(o.StateDir, identityFile)); err == nil {
		return
	}
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		return
	}
	id, ef, err := EnrollFromFile(ctx, path, owner, o)
	if err != nil {
		log.Warn("enrollment from the enrollment file failed", zap.String("file", path), zap.Error(err))
		return
	}
	log.Info("enrolled from the enrollment file", zap.String("device", id.DeviceID),
		zap.String("server", id.ServerURL), zap.String("organization", ef.Organization))
}
