package loadgen

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// FillOptions shape the history FillResults writes.
type FillOptions struct {
	Count   int           // results to write
	Devices int           // devices they come from, in turn
	Configs int           // configurations they belong to, in turn
	Workers int           // writes in flight at once
	Start   time.Time     // reception time of the first result
	Step    time.Duration // between reception times; results keep their order
	// Progress, when set, gets a line every tenth of Count.
	Progress io.Writer
}

// Check refuses options that cannot make a history.
func (o FillOptions) Check() error {
	switch {
	case o.Count < 1:
		return fmt.Errorf("--count must be 1 or more, got %d", o.Count)
	case o.Devices < 1 || o.Configs < 1:
		return fmt.Errorf("--devices and --configs must be 1 or more, got %d and %d", o.Devices, o.Configs)
	case o.Workers < 1:
		return fmt.Errorf("--workers must be 1 or more, got %d", o.Workers)
	case o.Step <= 0:
		return fmt.Errorf("--step must be more than 0, got %s", o.Step)
	}
	return nil
}

// fillStatuses mix the statuses as a fleet reports them: mostly success.
var fillStatuses = []string{
	protocol.StatusSucceeded, protocol.StatusSucceeded, protocol.StatusSucceeded, protocol.StatusSucceeded,
	protocol.StatusSucceeded, protocol.StatusSucceeded, protocol.StatusSucceeded, protocol.StatusFailed,
	protocol.StatusFailed, protocol.StatusTimedOut,
}

// fillOutput is a few hundred bytes of script output.
var fillOutput = strings.Repeat("checked /Library/Preferences/com.example.plist: 12 keys, 0 changed\n", 5)

// FillResult is the i-th result of a filled history. Run ids are derived
// from i, so filling again writes nothing twice.
func FillResult(o FillOptions, i int) (protocol.Result, time.Time) {
	at := o.Start.Add(time.Duration(i) * o.Step).UTC()
	status := fillStatuses[i%len(fillStatuses)]
	r := protocol.Result{
		RunID:    fmt.Sprintf("run_fill_%09d", i),
		DeviceID: fmt.Sprintf("dev_fill_%05d", i%o.Devices),
		// Configurations change at a slower pace than devices, so each
		// device reports several of them.
		AssignmentID:      fmt.Sprintf("%sfill_%03d", cfgPrefix, (i/o.Devices)%o.Configs),
		AssignmentVersion: 1,
		ScriptID:          "scr_fill",
		ScriptSHA256:      "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		Status:            status,
		StartedAt:         at.Add(-1200 * time.Millisecond),
		FinishedAt:        at.Add(-200 * time.Millisecond),
		DurationMS:        1000,
		Stdout:            fillOutput,
		StdoutBytes:       int64(len(fillOutput)),
	}
	if status != protocol.StatusSucceeded {
		r.ExitCode, r.Stderr = 1, "error: com.example.plist: key AutoUpdate missing\n"
		r.StderrBytes = int64(len(r.Stderr))
	}
	return r, at
}

// FillResults writes o.Count results to st through PutResult, o.Workers at
// a time, and reports how many were new. It stops at the first error.
func FillResults(ctx context.Context, st store.ResultStore, o FillOptions) (int, error) {
	if err := o.Check(); err != nil {
		return 0, err
	}
	var added atomic.Int64
	tenth := max(o.Count/10, 1)
	// mu keeps the count of writes done and its progress lines in step.
	var mu sync.Mutex
	done := 0
	err := forEach(ctx, 0, o.Count, o.Workers, func(ctx context.Context, i int) error {
		r, at := FillResult(o, i)
		isNew, err := st.PutResult(ctx, r, at)
		if err != nil {
			return err
		}
		if isNew {
			added.Add(1)
		}
		mu.Lock()
		defer mu.Unlock()
		if done++; o.Progress != nil && (done%tenth == 0 || done == o.Count) {
			fmt.Fprintf(o.Progress, "%d of %d results written\n", done, o.Count)
		}
		return nil
	})
	return int(added.Load()), err
}
