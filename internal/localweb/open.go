package localweb

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
)

// ErrNoBrowser is returned when there is no way to open a page here.
var ErrNoBrowser = errors.New("no browser opener on this system")

// Opener shows a URL in the console user's default browser.
type Opener interface {
	Open(ctx context.Context, url string) error
}

// Runner runs one command (argument vector, never shell text) and returns
// its combined output; tests replace it.
type Runner func(ctx context.Context, name string, args ...string) ([]byte, error)

// ExecRunner is the Runner that really runs the command.
func ExecRunner(ctx context.Context, name string, args ...string) ([]byte, error) {
	return exec.CommandContext(ctx, name, args...).CombinedOutput()
}

// ConsoleUser is the logged-in GUI user a root process opens pages for.
type ConsoleUser struct {
	UID  uint32
	Name string
}

// CommandOpener opens URLs by running the platform's opener.
type CommandOpener struct {
	Run Runner
	// Euid is the effective uid of this process (os.Geteuid).
	Euid int
	// Console finds the console user; used only when running as root.
	Console func() (ConsoleUser, error)
}

// Open runs the platform command for url.
func (o CommandOpener) Open(ctx context.Context, url string) error {
	name, args, err := o.command(url)
	if err != nil {
		return err
	}
	run := o.Run
	if run == nil {
		run = ExecRunner
	}
	if out, err := run(ctx, name, args...); err != nil {
		return fmt.Errorf("open %s: %w: %s", name, err, out)
	}
	return nil
}
