// Package installer installs flat PKGs: on macOS through Apple's
// installer(8), elsewhere through a twin that leaves what installer(8)
// leaves behind for the inventory (a receipt under var/db/receipts), so the
// whole install path runs and is tested on Linux.
//
// Callers verify a package (size, SHA-256 from the signed check-in) before
// they hand it here: Install trusts its input.
package installer

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
)

// ErrNoPackageInfo reports a PKG without a component PackageInfo.
var ErrNoPackageInfo = errors.New("package has no PackageInfo: not an installable flat package")

// Installer installs one verified flat PKG on the boot volume.
type Installer interface {
	Install(ctx context.Context, pkgPath string) error
}

// Runner runs one command (argument vector, never shell text) and returns
// its combined output.
type Runner func(ctx context.Context, name string, args ...string) ([]byte, error)

func execRunner(ctx context.Context, name string, args ...string) ([]byte, error) {
	return exec.CommandContext(ctx, name, args...).CombinedOutput()
}

// System is Apple's installer(8). It needs root.
type System struct {
	// Run is the command runner; nil runs the command. Tests replace it.
	Run Runner
}

// installerPath is installer(8); an absolute path, so PATH cannot swap it.
const installerPath = "/usr/sbin/installer"

// Install runs `installer -pkg PATH -target /`. installer explains its
// failures only in its output, so the output is part of the error.
func (s System) Install(ctx context.Context, pkgPath string) error {
	run := s.Run
	if run == nil {
		run = execRunner
	}
	out, err := run(ctx, installerPath, "-pkg", pkgPath, "-target", "/")
	if err != nil {
		return fmt.Errorf("installer -pkg %s: %w: %s", pkgPath, err, trimOutput(out))
	}
	return nil
}

// trimOutput keeps the end of a long output, where installer puts the reason.
func trimOutput(b []byte) string {
	const max = 4096
	if len(b) > max {
		b = b[len(b)-max:]
	}
	return string(b)
}
