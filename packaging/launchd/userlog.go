package launchd

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"
)

// The UI agent logs per user, under the user's home. launchd does not expand
// "~" or $HOME in StandardOutPath/StandardErrorPath, and one path shared by
// every user of the Mac would be written by each of them; so the UI job has
// neither key and the command opens its own log (OpenUserLog) in the home
// launchd gives it.
const (
	// UserLogDir is relative to the user's home.
	UserLogDir = "Library/Logs/MobileAtWork"
	UILogName  = "ui.log"
	// uiLogMax is the size at which the log is moved to ui.log.1 (one
	// generation kept), so a crash loop cannot fill the user's disk.
	uiLogMax = 1 << 20
)

// UILogPath returns the UI agent's log file for the user whose home is home.
func UILogPath(home string) string { return filepath.Join(home, UserLogDir, UILogName) }

// OpenUserLog opens the UI log under home for appending, creating the
// directory (0700) and the file (0600) when needed and rotating it once it
// has grown past 1 MiB. It refuses a log path that is a symbolic link.
func OpenUserLog(home string) (*os.File, error) {
	if home == "" || !filepath.IsAbs(home) {
		return nil, fmt.Errorf("ui log: home %q is not an absolute path", home)
	}
	p := UILogPath(home)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return nil, fmt.Errorf("ui log: %w", err)
	}
	if fi, err := os.Lstat(p); err == nil && fi.Mode().IsRegular() && fi.Size() > uiLogMax {
		if err := os.Rename(p, p+".1"); err != nil {
			return nil, fmt.Errorf("ui log: rotate: %w", err)
		}
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE|syscall.O_NOFOLLOW, 0o600)
	if errors.Is(err, syscall.ELOOP) {
		return nil, fmt.Errorf("ui log: %s is a symbolic link", p)
	}
	if err != nil {
		return nil, fmt.Errorf("ui log: %w", err)
	}
	return f, nil
}

// RedirectStdio points the process's stdout and stderr at f, so that what
// the runtime and the system frameworks write there (a panic, AppKit's
// warnings) lands in the log as well.
func RedirectStdio(f *os.File) error {
	for _, fd := range []int{1, 2} {
		if err := unix.Dup2(int(f.Fd()), fd); err != nil {
			return fmt.Errorf("ui log: redirect fd %d: %w", fd, err)
		}
	}
	return nil
}
