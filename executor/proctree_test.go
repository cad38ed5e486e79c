package executor

import (
	"slices"
	"sync"
	"testing"
)

// fakeTable is a process table the test edits between snapshots.
type fakeTable struct {
	mu    sync.Mutex
	procs []process
	env   map[int]string // pid → the one env entry it carries
}

func (f *fakeTable) List() ([]process, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.procs), nil
}

func (f *fakeTable) HasEnv(pid int, kv string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.env[pid] == kv
}

func (f *fakeTable) set(procs ...process) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.procs = procs
}

func pids(procs []process) []int {
	var out []int
	for _, p := range procs {
		out = append(out, p.PID)
	}
	slices.Sort(out)
	return out
}

func TestTrackerFindsDescendants(t *testing.T) {
	const root = 100
	pid1 := process{PID: 1, PPID: 0, PGID: 1, Start: 1}
	daemon := process{PID: 50, PPID: 1, PGID: 50, Start: 5}
	script := process{PID: root, PPID: 50, PGID: root, Start: 10}
	tests := []struct {
		name     string
		earlier  []process // snapshot taken while the script ran
		now      []process // table at kill time
		env      map[int]string
		scanEnv  bool
		wantLive []int
	}{
		{
			name:     "children and grandchildren by ppid",
			now:      []process{pid1, daemon, script, {PID: 101, PPID: root, PGID: root, Start: 11}, {PID: 102, PPID: 101, PGID: 102, Start: 12}},
			wantLive: []int{100, 101, 102},
		},
		{
			name: "orphan seen earlier is kept after re-parenting to pid1",
			earlier: []process{pid1, daemon, script,
				{PID: 101, PPID: root, PGID: 101, Start: 11},
				{PID: 102, PPID: 101, PGID: 101, Start: 12}},
			now:      []process{pid1, daemon, script, {PID: 102, PPID: 1, PGID: 101, Start: 12}},
			wantLive: []int{100, 102},
		},
		{
			name: "reused pid with another start time is not ours",
			earlier: []process{pid1, daemon, script,
				{PID: 101, PPID: root, PGID: 101, Start: 11}},
			now:      []process{pid1, daemon, script, {PID: 101, PPID: 1, PGID: 101, Start: 99}},
			wantLive: []int{100},
		},
		{
			name:     "group member whose parent is unknown",
			now:      []process{pid1, daemon, {PID: 103, PPID: 1, PGID: root, Start: 13}},
			wantLive: []int{103},
		},
		{
			name:     "double fork between snapshots found by run token",
			now:      []process{pid1, daemon, script, {PID: 104, PPID: 1, PGID: 104, Start: 14}, {PID: 105, PPID: 1, PGID: 105, Start: 15}},
			env:      map[int]string{104: RunTokenVar + "=tok"},
			scanEnv:  true,
			wantLive: []int{100, 104},
		},
		{
			name:     "run token ignored without an environment scan",
			now:      []process{pid1, daemon, script, {PID: 104, PPID: 1, PGID: 104, Start: 14}},
			env:      map[int]string{104: RunTokenVar + "=tok"},
			wantLive: []int{100},
		},
		{
			name:     "zombies and unrelated processes are skipped",
			now:      []process{pid1, daemon, script, {PID: 106, PPID: root, PGID: root, Start: 16, Zombie: true}, {PID: 107, PPID: 50, PGID: 50, Start: 17}},
			wantLive: []int{100},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			table := &fakeTable{env: tt.env}
			tr := newTracker(table, root, "tok")
			if tt.earlier != nil {
				tr.record(tt.earlier)
			}
			table.set(tt.now...)
			live, err := tr.live(tt.scanEnv)
			if err != nil {
				t.Fatal(err)
			}
			if got := pids(live); !slices.Equal(got, tt.wantLive) {
				t.Errorf("live = %v, want %v", got, tt.wantLive)
			}
		})
	}
}
