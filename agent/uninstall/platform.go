package uninstall

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// Command is an argv run without a shell, so no path or identifier is ever
// interpreted.
type Command []string

// Platform is what differs between service managers: launchd on macOS,
// systemd on the Linux twin.
type Platform interface {
	// StopJobs lists the commands that unload the agent's jobs, run before
	// anything is removed. They may fail (a job not loaded): warnings only.
	StopJobs() []Command
	// Forget returns the command that forgets a package receipt, or nil
	// when receipts are plain files that the plan removes.
	Forget(packageID string) Command
	// Reload lists the commands run after every removal.
	Reload() []Command
	// Run runs one command.
	Run(ctx context.Context, c Command) error
}

// Offline runs no command: for a test root, whose jobs are not the running
// system's, and for systems without a known service manager.
type Offline struct{}

func (Offline) StopJobs() []Command                { return nil }
func (Offline) Forget(string) Command              { return nil }
func (Offline) Reload() []Command                  { return nil }
func (Offline) Run(context.Context, Command) error { return nil }

// commandTimeout bounds one launchctl, pkgutil or systemctl call.
const commandTimeout = 30 * time.Second

// run executes c and folds its output into the error.
func run(ctx context.Context, c Command) error {
	if len(c) == 0 {
		return fmt.Errorf("empty command")
	}
	ctx, cancel := context.WithTimeout(ctx, commandTimeout)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, c[0], c[1:]...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(out.String())
		if len(msg) > 300 {
			msg = msg[:300] + "..."
		}
		if msg != "" {
			return fmt.Errorf("%s: %w: %s", strings.Join(c, " "), err, msg)
		}
		return fmt.Errorf("%s: %w", strings.Join(c, " "), err)
	}
	return nil
}

// SystemPlatform is the service manager of the running system.
func SystemPlatform() Platform { return systemPlatform() }
