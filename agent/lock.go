//go:build unix

package agent

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// ErrBusy is returned when another process of the agent (usually the
// daemon) is already checking in and running scripts with this state.
var ErrBusy = errors.New("another mobileatwork process is running check-ins with this state directory")

const lockFile = "agent.lock"

// acquire takes the state directory's lock for this process. Only the lock
// holder checks in, runs scripts and settles interrupted runs: two runners
// over one ledger could run a run-once script twice, and a reader that
// "recovered" a run the daemon is still running would report it as
// interrupted. The kernel releases the lock when the process dies, so a
// kill -9 never leaves it stuck.
func (a *Agent) acquire() (release func(), err error) {
	f, err := os.OpenFile(filepath.Join(a.o.StateDir, lockFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock state directory: %w", err)
	}
	if err := flockSoon(f); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: the daemon checks in on its own; to check in now, restart it with `sudo launchctl kickstart -k system/com.mobileatwork.agent`", ErrBusy)
		}
		return nil, fmt.Errorf("lock state directory: %w", err)
	}
	return func() { f.Close() }, nil
}

// lockGrace is how long acquire waits for a lock that is held only for a
// moment: a process that forks while another of its goroutines releases
// the lock keeps it, in the child, until the child execs.
const lockGrace = 200 * time.Millisecond

// flockSoon takes f's exclusive lock, trying again within lockGrace.
func flockSoon(f *os.File) error {
	deadline := time.Now().Add(lockGrace)
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if !errors.Is(err, unix.EWOULDBLOCK) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(lockGrace / 10)
	}
}

// start takes the lock and settles what a crash interrupted.
func (a *Agent) start() (release func(), err error) {
	release, err = a.acquire()
	if err != nil {
		return nil, err
	}
	if err := a.recoverInterrupted(); err != nil {
		release()
		return nil, err
	}
	a.sweep()
	return release, nil
}
