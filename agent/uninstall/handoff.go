package uninstall

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/mobileatwork/mobileatwork/internal/atomicfile"
	"github.com/mobileatwork/mobileatwork/packaging/launchd"
)

// ErrNoServiceManager is returned by Detach where no service manager can
// run the uninstall as a job of its own.
var ErrNoServiceManager = errors.New("no service manager to hand the uninstall to")

// HandOffLabel names the one-shot job that runs an uninstall asked for by a
// script of the agent itself.
const HandOffLabel = launchd.DaemonLabel + ".uninstall"

// HandOffPlistPath is where the launchd hand-off job is written; the
// uninstall plan removes it with the agent's other job files.
const HandOffPlistPath = "/Library/LaunchDaemons/" + HandOffLabel + ".plist"

// HandOff is how a service manager runs argv once, as a job of its own.
type HandOff struct {
	Files    map[string][]byte // written first (root-relative path → content, 0644)
	Commands []Command         // then run in order
}

// handOffer is implemented by the platforms that can run a one-shot job.
type handOffer interface {
	HandOff(argv []string) (HandOff, error)
}

// Detach hands an uninstall to the service manager. A script run by the
// agent's daemon cannot uninstall in place: unloading the daemon stops the
// daemon, which kills its running script, and with it the uninstall, half
// way. As a job of launchd (or a transient systemd unit) the uninstall lives
// outside the daemon's process tree and survives the daemon's exit.
func Detach(ctx context.Context, p Platform, root string, argv []string) error {
	h, ok := p.(handOffer)
	if !ok {
		return ErrNoServiceManager
	}
	if len(argv) == 0 || !filepath.IsAbs(argv[0]) {
		return fmt.Errorf("hand off uninstall: the program must be an absolute path, got %q", strings.Join(argv, " "))
	}
	job, err := h.HandOff(argv)
	if err != nil {
		return fmt.Errorf("hand off uninstall: %w", err)
	}
	for p, data := range job.Files {
		name := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			return fmt.Errorf("hand off uninstall: %w", err)
		}
		if err := atomicfile.WriteFile(name, data, 0o644); err != nil {
			return fmt.Errorf("hand off uninstall: %w", err)
		}
	}
	for _, c := range job.Commands {
		if err := p.Run(ctx, c); err != nil {
			return fmt.Errorf("hand off uninstall: %w", err)
		}
	}
	return nil
}
