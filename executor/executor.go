// Package executor runs one verified script: in a private directory, with a
// clean environment, in its own process group, under a time limit and with
// capped output. It is the code that runs admin scripts as root on every
// managed Mac, so it favours predictable behaviour over features: inputs are
// only ever passed as argv/env entries, never spliced into text, and a timed
// out script is removed together with every process it started. On macOS a
// script run as the console user starts in that user's login session (see
// session.go).
package executor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Status is the outcome of a run, spelled as on the wire.
type Status string

// Run outcomes. "rejected" (verification) is decided before the executor is
// called and is therefore not produced here.
const (
	Succeeded Status = "succeeded"
	Failed    Status = "failed"
	TimedOut  Status = "timed_out"
	Error     Status = "error"
	Cancelled Status = "cancelled"
)

// ErrCancelled, wrapped in the cause of a run's context
// (context.WithCancelCause), ends the run as Cancelled rather than
// interrupted: someone entitled to stop it did. The cause's text is the
// result's note.
var ErrCancelled = errors.New("cancelled")

// Defaults documented for the product.
const (
	DefaultTimeout   = 60 * time.Second
	DefaultKillGrace = 5 * time.Second
	DefaultMaxOutput = 1024
)

// drainGrace bounds how long Run keeps reading after the script exited: a
// background process that inherited stdout/stderr would otherwise keep the
// run open forever (the classic "policy hangs on a launched app" problem).
var drainGrace = 500 * time.Millisecond

// User is an account a script runs as.
type User struct {
	UID, GID uint32
	Groups   []uint32 // supplementary groups; empty clears them
	Name     string
	Home     string
}

// Request describes one run.
type Request struct {
	Script    []byte            // the verified script body
	Args      []string          // input values, positional, in declaration order
	Env       map[string]string // extra variables, e.g. MAW_INPUT_SERIAL; keys must match [A-Z_][A-Z0-9_]*
	Timeout   time.Duration     // 0 → 60 s
	KillGrace time.Duration     // 0 → 5 s; SIGTERM to the group, then SIGKILL after the grace
	MaxOutput int               // bytes kept per stream (head half + tail half); 0 → 1024
	RunAs     *User             // nil = current user (root in production)
	// TempDir is the parent of the private run dir: a directory of the
	// daemon's user that nobody else may write to, 0711 for RunAs (who must
	// traverse it, never rename in it); "" is os.TempDir(), refused for RunAs.
	TempDir string
	// RunToken is the value of RunTokenVar in the run's environment, which
	// marks its processes; "" makes a fresh one. The agent records it before
	// the run, so that after a crash it can stop what the run left behind
	// (KillRun).
	RunToken string
}

// Result is what the agent reports for a run.
type Result struct {
	Status         Status
	ExitCode       int
	StartedAt      time.Time
	FinishedAt     time.Time
	Stdout, Stderr string // capped, valid UTF-8 (invalid bytes replaced, InvalidUTF8 set)
	StdoutBytes    int64  // everything the script wrote to stdout
	StderrBytes    int64  // everything the script wrote to stderr
	Truncated      bool   // either stream dropped bytes
	InvalidUTF8    bool   // either stream held bytes that are not UTF-8
	Error          string // why the run is Error, or a note about the run
}

// Run executes req.Script and reports how it ended. It never panics and
// always removes its run directory. Cancelling ctx stops the script the same
// way a timeout does.
func Run(ctx context.Context, req Request) (res Result) {
	res.StartedAt = time.Now()
	defer func() {
		if r := recover(); r != nil {
			res.Status = Error
			res.Error = fmt.Sprintf("executor: unexpected panic: %v", r)
		}
		res.FinishedAt = time.Now()
	}()
	fail := func(err error) Result {
		res.Status = Error
		res.ExitCode = -1
		res.Error = err.Error()
		return res
	}

	req = withDefaults(req)
	if err := ctx.Err(); err != nil {
		res = fail(fmt.Errorf("not started: %w", err))
		if cause := context.Cause(ctx); errors.Is(cause, ErrCancelled) {
			res.Status, res.Error = Cancelled, cause.Error()+" before it started"
		}
		return res
	}
	if err := validateArgs(req.Args); err != nil {
		return fail(err)
	}
	token := req.RunToken
	if token == "" {
		var err error
		if token, err = NewRunToken(); err != nil {
			return fail(err)
		}
	} else if !validToken(token) {
		return fail(fmt.Errorf("run token %q: want 16 to 64 hex digits", token))
	}
	env, err := buildEnv(req, token)
	if err != nil {
		return fail(err)
	}

	rd, err := newRunDir(req.TempDir, req.RunAs, req.Script)
	if err != nil {
		return fail(err)
	}
	defer rd.remove()
	dir := rd.path

	argv, attr, err := runAsCommand(commandLine(rd.scriptPath(), req.Script, req.Args), req.RunAs)
	if err != nil {
		return fail(err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		return fail(fmt.Errorf("create stdout pipe: %w", err))
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return fail(fmt.Errorf("create stderr pipe: %w", err))
	}
	newCmd := func() *exec.Cmd {
		return &exec.Cmd{
			Path:        argv[0],
			Args:        argv,
			Env:         env,
			Dir:         dir,
			Stdin:       nil, // os/exec connects /dev/null
			Stdout:      outW,
			Stderr:      errW,
			SysProcAttr: attr,
		}
	}
	cmd, err := start(newCmd)
	// The child holds its own copies; ours must go so EOF arrives when the
	// last writer in the tree exits.
	outW.Close()
	errW.Close()
	if err != nil {
		outR.Close()
		errR.Close()
		return fail(startError(err, req.Script))
	}
	res.StartedAt = time.Now()
	pid := cmd.Process.Pid
	// Should anything below panic, the recover in the outer defer reports
	// it; this guard makes sure the script does not outlive the report.
	finished := false
	defer func() {
		if !finished {
			_ = syscall.Kill(-pid, syscall.SIGKILL)
		}
	}()

	stdout := newCapture(req.MaxOutput)
	stderr := newCapture(req.MaxOutput)
	readers := newDrainGroup(2)
	go readers.drain(outR, stdout)
	go readers.drain(errR, stderr)

	tree := newTracker(systemProcesses, pid, token)
	stopTracking := tree.watch(trackInterval)

	waitDone := make(chan error, 1)
	go func() { waitDone <- cmd.Wait() }()

	timer := time.NewTimer(req.Timeout)
	defer timer.Stop()
	var waitErr error
	var killReason string
	interrupted, cancelled := false, false
	select {
	case waitErr = <-waitDone:
	case <-timer.C:
		killReason = "timed out"
	case <-ctx.Done():
		killReason = fmt.Sprintf("interrupted: the agent is stopping (%v)", context.Cause(ctx))
		interrupted = true
		if cause := context.Cause(ctx); errors.Is(cause, ErrCancelled) {
			killReason, interrupted, cancelled = cause.Error(), false, true
		}
	}
	stopTracking()

	var notes []string
	if killReason != "" {
		ran := time.Since(res.StartedAt).Round(time.Millisecond)
		how := tree.terminate(pid, req.KillGrace)
		waitErr = <-waitDone
		notes = append(notes, fmt.Sprintf("%s after %s (limit %s); %s", killReason, ran, req.Timeout, how))
	}

	if !readers.waitFor(drainGrace) {
		// Something outside our control still holds the pipes. Stop
		// reading rather than hang; on a normal exit it is left running.
		outR.Close()
		errR.Close()
		<-readers.done
		notes = append(notes, fmt.Sprintf("output closed %s after exit: a background process kept stdout/stderr open", drainGrace))
	} else {
		outR.Close()
		errR.Close()
	}

	res.Stdout, res.StdoutBytes = stdout.text()
	res.Stderr, res.StderrBytes = stderr.text()
	res.Truncated = stdout.truncated() || stderr.truncated()
	res.InvalidUTF8 = stdout.invalidUTF8 || stderr.invalidUTF8

	code, signal, err := exitStatus(cmd, waitErr)
	switch {
	case err != nil:
		res.Status = Error
		res.ExitCode = -1
		notes = append([]string{err.Error()}, notes...)
	case interrupted:
		// Not the script's fault: it did not run out of time.
		res.Status = Error
		res.ExitCode = code
	case cancelled:
		res.Status = Cancelled
		res.ExitCode = code
	case killReason != "":
		res.Status = TimedOut
		res.ExitCode = code
	case code == 0:
		res.Status = Succeeded
	default:
		res.Status = Failed
		res.ExitCode = code
		if signal != 0 {
			notes = append(notes, fmt.Sprintf("killed by signal %d (%v)", int(signal), signal))
		}
	}
	res.Error = strings.Join(notes, "; ")
	finished = true
	return res
}

// startMu serialises process starts so the umask switch below is never
// observed by another run. The umask is per process (per thread group on
// Linux) and os/exec offers no hook between fork and exec, so the only ways
// to give the child 077 are a shell trampoline (an extra exec and a shell
// parsing our command line) or briefly changing the daemon's own umask. We do
// the latter: it can only make files created by other goroutines during the
// few hundred microseconds of a fork more private, never less, and the agent
// creates its files with explicit modes anyway.
var startMu sync.Mutex

// start launches the command built by newCmd with umask 077. ETXTBSY is
// retried: a fork elsewhere in the daemon can briefly inherit the
// just-closed write descriptor of the script file (Go bug 22315).
func start(newCmd func() *exec.Cmd) (*exec.Cmd, error) {
	startMu.Lock()
	defer startMu.Unlock()
	if err := closeOnExecAll(); err != nil {
		return nil, fmt.Errorf("close the daemon's descriptors to the script: %w", err)
	}
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	for attempt := 1; ; attempt++ {
		cmd := newCmd()
		err := cmd.Start()
		if err == nil {
			return cmd, nil
		}
		if !errors.Is(err, syscall.ETXTBSY) || attempt == 5 {
			return nil, err
		}
		time.Sleep(time.Duration(attempt) * 5 * time.Millisecond)
	}
}

// runAsCommand is userCommand; tests on Linux swap in the macOS wrapping.
var runAsCommand = userCommand

func sysProcAttr(u *User) *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{Setpgid: true}
	if u != nil {
		attr.Credential = &syscall.Credential{
			Uid:    u.UID,
			Gid:    u.GID,
			Groups: append([]uint32(nil), u.Groups...),
		}
	}
	return attr
}

func withDefaults(req Request) Request {
	if req.Timeout <= 0 {
		req.Timeout = DefaultTimeout
	}
	if req.KillGrace <= 0 {
		req.KillGrace = DefaultKillGrace
	}
	if req.MaxOutput <= 0 {
		req.MaxOutput = DefaultMaxOutput
	}
	return req
}

// drainGroup runs the pipe readers and closes done when the last one ends:
// a channel, so Run can wait for it with a deadline.
type drainGroup struct {
	left atomic.Int32
	done chan struct{}
}

func newDrainGroup(n int32) *drainGroup {
	g := &drainGroup{done: make(chan struct{})}
	g.left.Store(n)
	return g
}

// drain copies r into c with a fixed buffer until EOF or until r is closed.
func (g *drainGroup) drain(r io.Reader, c *capture) {
	defer func() {
		if g.left.Add(-1) == 0 {
			close(g.done)
		}
	}()
	buf := make([]byte, 32*1024)
	for {
		n, err := r.Read(buf)
		c.Write(buf[:n])
		if err != nil {
			return
		}
	}
}

func (g *drainGroup) waitFor(limit time.Duration) bool {
	select {
	case <-g.done:
		return true
	default:
	}
	t := time.NewTimer(limit)
	defer t.Stop()
	select {
	case <-g.done:
		return true
	case <-t.C:
		return false
	}
}

// exitStatus turns Wait's outcome into a shell-style exit code: 128+signal
// for a process killed by a signal.
func exitStatus(cmd *exec.Cmd, waitErr error) (code int, sig syscall.Signal, err error) {
	var exitErr *exec.ExitError
	if waitErr != nil && !errors.As(waitErr, &exitErr) {
		return -1, 0, fmt.Errorf("wait for script: %w", waitErr)
	}
	ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ok {
		return cmd.ProcessState.ExitCode(), 0, nil
	}
	if ws.Signaled() {
		return 128 + int(ws.Signal()), ws.Signal(), nil
	}
	return ws.ExitStatus(), 0, nil
}
