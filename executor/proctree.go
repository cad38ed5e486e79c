package executor

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"sync"
	"syscall"
	"time"
)

// process is one row of the system process table.
type process struct {
	PID, PPID, PGID int
	Start           uint64 // start time in platform units; with PID it names a process uniquely
	Zombie          bool
}

// processTable reads the system process table. The Linux version walks
// /proc, the darwin version asks sysctl kern.proc.all; tests use a fake.
type processTable interface {
	// List returns every process on the machine.
	List() ([]process, error)
	// HasEnv reports whether the environment pid started with contains
	// the exact entry kv ("NAME=value").
	HasEnv(pid int, kv string) bool
}

// trackInterval is how often a running script's tree is recorded. Orphans
// are re-parented to launchd/init, which erases the ppid link; recording the
// tree while it is intact is what lets a kill find them later. A snapshot is
// one sysctl on darwin and a /proc walk on Linux: cheap at this rate.
//
// We do not make the daemon a child subreaper (PR_SET_CHILD_SUBREAPER) on
// Linux: every orphan would then become the daemon's child to reap, which
// means wait4(-1) racing os/exec's own Wait, and darwin has no equivalent.
// The per-run token in the environment catches the double forks that happen
// between two snapshots instead.
var trackInterval = 100 * time.Millisecond

// tracker records the descendants of one script run.
type tracker struct {
	table processTable
	root  int
	token string // RunTokenVar=value

	mu    sync.Mutex
	known map[int]uint64 // pid → start time; 0 means "not seen yet"
}

func newTracker(table processTable, root int, token string) *tracker {
	return &tracker{
		table: table,
		root:  root,
		token: RunTokenVar + "=" + token,
		known: map[int]uint64{root: 0},
	}
}

// watch snapshots the tree every interval until the returned stop is called.
// The first snapshot comes after half an interval: scripts often fork
// right away, but most finish in a few milliseconds and need none.
func (t *tracker) watch(interval time.Duration) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		timer := time.NewTimer(interval / 2)
		defer timer.Stop()
		for {
			select {
			case <-done:
				return
			case <-timer.C:
			}
			if procs, err := t.table.List(); err == nil {
				t.record(procs)
			}
			timer.Reset(interval)
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() { close(done); <-finished })
	}
}

// record adds to the known set every process whose parent is known (and is
// still the same process) or that shares the script's process group.
func (t *tracker) record(procs []process) {
	t.mu.Lock()
	defer t.mu.Unlock()
	byPID := make(map[int]process, len(procs))
	for _, p := range procs {
		byPID[p.PID] = p
	}
	if p, ok := byPID[t.root]; ok && t.known[t.root] == 0 {
		t.known[t.root] = p.Start
	}
	for changed := true; changed; {
		changed = false
		for _, p := range procs {
			if _, ok := t.known[p.PID]; ok {
				continue
			}
			if p.PGID == t.root || t.isKnown(byPID, p.PPID) {
				t.known[p.PID] = p.Start
				changed = true
			}
		}
	}
}

func (t *tracker) isKnown(byPID map[int]process, pid int) bool {
	start, ok := t.known[pid]
	if !ok {
		return false
	}
	p, ok := byPID[pid]
	return ok && (start == 0 || p.Start == start)
}

// live returns the known processes still running, after adding those that
// carry the run token when scanEnv is set.
func (t *tracker) live(scanEnv bool) ([]process, error) {
	procs, err := t.table.List()
	if err != nil {
		return nil, err
	}
	t.record(procs)
	self := os.Getpid()
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []process
	for _, p := range procs {
		if p.Zombie || p.PID == self || p.PID <= 1 {
			continue
		}
		start, ok := t.known[p.PID]
		switch {
		case ok && (start == 0 || start == p.Start):
		case scanEnv && t.table.HasEnv(p.PID, t.token):
			t.known[p.PID] = p.Start
		default:
			continue
		}
		out = append(out, p)
	}
	return out, nil
}

// terminate stops the whole tree of a run: SIGTERM to the group and to every
// escaped descendant, SIGKILL to whatever is left after grace. It returns a
// short note for the result.
func (t *tracker) terminate(pgid int, grace time.Duration) string {
	signalAll := func(procs []process, sig syscall.Signal) {
		_ = syscall.Kill(-pgid, sig)
		for _, p := range procs {
			if p.PGID != pgid {
				_ = syscall.Kill(p.PID, sig)
			}
		}
	}
	// Signal what is already known first; the environment scan that finds
	// double-forked escapees costs a read per process and comes second, and
	// signals only the newcomers so no trap handler runs twice.
	procs, err := t.live(false)
	if err != nil {
		// Without a process table, the group is all we can reach.
		signalAll(nil, syscall.SIGTERM)
		time.Sleep(grace)
		signalAll(nil, syscall.SIGKILL)
		return fmt.Sprintf("process table unavailable (%v): only the process group was killed", err)
	}
	signalAll(procs, syscall.SIGTERM)
	if more, err := t.live(true); err == nil {
		for _, p := range more {
			if p.PGID != pgid && !slices.ContainsFunc(procs, func(q process) bool { return q.PID == p.PID }) {
				_ = syscall.Kill(p.PID, syscall.SIGTERM)
			}
		}
	}

	deadline := time.Now().Add(grace)
	for time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
		if procs, err = t.live(false); err == nil && len(procs) == 0 {
			return "stopped by SIGTERM"
		}
	}

	// A process may fork while we kill its parent: repeat until a scan
	// (environment included) comes back empty.
	signalAll(procs, syscall.SIGKILL)
	survivors := len(procs)
	for range 5 {
		if procs, err = t.live(true); err != nil || len(procs) == 0 {
			break
		}
		survivors = max(survivors, len(procs))
		signalAll(procs, syscall.SIGKILL)
		time.Sleep(5 * time.Millisecond)
	}
	return fmt.Sprintf("SIGKILL after %s grace (%d processes)", grace, survivors)
}

// validToken tells what a run token looks like, 16 to 64 hex digits;
// anything else is refused rather than matched against other processes'
// environments. The length is checked apart: a bounded repetition
// compiles to a state per count, at every start of the agent.
func validToken(token string) bool {
	return len(token) >= 16 && len(token) <= 64 && hexDigits.MatchString(token)
}

var hexDigits = regexp.MustCompile(`^[0-9a-f]+$`)

// KillRun stops, with SIGKILL, every process still carrying the run token:
// what a run left behind when the agent that started it died (kill -9, a
// crash), so that a run reported "interrupted" is really over. It returns
// how many processes it killed.
func KillRun(token string) (int, error) { return killRun(systemProcesses, token) }

func killRun(table processTable, token string) (int, error) {
	if !validToken(token) {
		return 0, fmt.Errorf("kill run: token %q is not a run token", token)
	}
	procs, err := table.List()
	if err != nil {
		return 0, fmt.Errorf("kill run: %w", err)
	}
	self, kv, n := os.Getpid(), RunTokenVar+"="+token, 0
	for _, p := range procs {
		if p.Zombie || p.PID == self || p.PID <= 1 || !table.HasEnv(p.PID, kv) {
			continue
		}
		if err := syscall.Kill(p.PID, syscall.SIGKILL); err == nil {
			n++
		}
	}
	return n, nil
}
