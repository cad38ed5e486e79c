package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/agent/outbox"
	"github.com/mobileatwork/mobileatwork/executor"
	"github.com/mobileatwork/mobileatwork/internal/atomicfile"
	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// queued is a result of configuration cfg, as the agent queues one.
func queued(a *Agent, cfg string, i int, status, stdout string) protocol.Result {
	now := time.Now().UTC()
	return protocol.Result{RunID: fmt.Sprintf("20270101T0000%02d-r%02d", i/60, i), DeviceID: a.DeviceID(), AssignmentID: cfg,
		AssignmentVersion: 1, ScriptID: "scr_x", Status: status, Stdout: stdout, StdoutBytes: int64(len(stdout)),
		StartedAt: now, FinishedAt: now}
}

// scriptConfig is a script configuration distributed to every device:
// the server takes results only of configurations that target the device.
func (e *testEnv) scriptConfig(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	sc, err := e.srv.AddScript(ctx, "flushed", "", []byte("true\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	c, _, err := e.srv.Assign(ctx, "", "", server.ScriptRequest{Script: sc.ID}, []string{"all"})
	if err != nil {
		t.Fatal(err)
	}
	return c.ID
}

func serverResults(t *testing.T, e *testEnv) map[string]store.StoredResult {
	t.Helper()
	rs, err := e.srv.Store.Results(context.Background(), store.ResultFilter{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]store.StoredResult{}
	for _, r := range rs {
		out[r.RunID] = r
	}
	return out
}

// Results whose sum is over the server's request limit are delivered in
// batches sized by bytes; a result whose output is mostly escaped
// characters (1 MiB of "<" is 6 MiB of JSON) is cut to fit when queued.
func TestFlushDeliversMoreThanOneRequestHolds(t *testing.T) {
	e := newTestEnv(t)
	a := e.agent(t, Options{})
	cfg := e.scriptConfig(t)
	for i := range 25 { // a legal max_response_kb=100 on 25 scripts
		if err := a.outbox.Put(queued(a, cfg, i, protocol.StatusSucceeded, strings.Repeat("x", 100<<10))); err != nil {
			t.Fatal(err)
		}
	}
	angle := queued(a, cfg, 25, protocol.StatusSucceeded, strings.Repeat("<", 1<<20))
	angle.Stderr = strings.Repeat("<", 1<<20)
	if err := a.outbox.Put(angle); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(e.state, outboxDir, angle.RunID+".json")); err != nil || fi.Size() > protocol.MaxResultBytes {
		t.Fatalf("queued result file: %v, %d bytes; want at most %d", err, fi.Size(), protocol.MaxResultBytes)
	}
	n, err := a.Flush(context.Background())
	if err != nil || n != 26 {
		t.Fatalf("Flush = %d, %v; want 26 delivered", n, err)
	}
	got := serverResults(t, e)
	if len(got) != 26 || a.outbox.Len() != 0 {
		t.Fatalf("server holds %d results, %d still queued", len(got), a.outbox.Len())
	}
	r := got[angle.RunID]
	if !r.Truncated || r.StdoutBytes != 1<<20 || !strings.Contains(r.Error, "upload limit") || !strings.HasPrefix(r.Stdout, "<<<") {
		t.Fatalf("cut result: truncated=%v bytes=%d error=%q", r.Truncated, r.StdoutBytes, r.Error)
	}
}

// A result the server refuses, by name or as a request of its own, never
// blocks the others: it is set aside and reported as an error saying why.
func TestRefusedResultDoesNotBlockTheOthers(t *testing.T) {
	e := newTestEnv(t)
	a := e.agent(t, Options{})
	cfg := e.scriptConfig(t)
	good1 := queued(a, cfg, 1, protocol.StatusSucceeded, "one\n")
	bogus := queued(a, cfg, 2, "exploded", "")
	good2 := queued(a, cfg, 3, protocol.StatusFailed, "three\n")
	// A run of a configuration that does not target the device: refused,
	// and so is its short report, which is then dropped.
	stray := queued(a, "cfg_not_ours", 5, protocol.StatusSucceeded, "stray\n")
	for _, r := range []protocol.Result{good1, stray, bogus, good2} {
		if err := a.outbox.Put(r); err != nil {
			t.Fatal(err)
		}
	}
	// A file queued by an earlier release, larger than a whole request:
	// the server answers 413 to it alone.
	huge := queued(a, cfg, 4, protocol.StatusSucceeded, strings.Repeat("y", protocol.MaxRequestBody))
	b, _ := json.Marshal(huge)
	if err := os.WriteFile(filepath.Join(e.state, outboxDir, huge.RunID+".json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Flush(context.Background()); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	got := serverResults(t, e)
	if len(got) != 4 || a.outbox.Len() != 0 {
		t.Fatalf("server holds %d results (%v), %d queued; want all 4 reported", len(got), keys(got), a.outbox.Len())
	}
	if got[good1.RunID].Stdout != "one\n" || got[good2.RunID].Status != protocol.StatusFailed {
		t.Fatalf("good results changed: %+v %+v", got[good1.RunID], got[good2.RunID])
	}
	for _, id := range []string{bogus.RunID, huge.RunID} {
		r := got[id]
		if r.Status != protocol.StatusError || !strings.HasPrefix(r.Error, protocol.UndeliveredPrefix) || r.Stdout != "" {
			t.Fatalf("refused %s reported as %s %q", id, r.Status, r.Error)
		}
		if _, err := os.Stat(filepath.Join(e.state, outboxDir, "."+id+".refused")); err != nil {
			t.Fatalf("refused %s not kept aside: %v", id, err)
		}
	}
	if _, ok := got[stray.RunID]; ok {
		t.Fatalf("the stray result was stored: %+v", got[stray.RunID])
	}
	if !strings.Contains(got[bogus.RunID].Error, "unknown status") || !strings.Contains(got[huge.RunID].Error, "too large") {
		t.Fatalf("reasons: %q / %q", got[bogus.RunID].Error, got[huge.RunID].Error)
	}
}

func keys(m map[string]store.StoredResult) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// A result that could not be saved (the disk was full) is saved and
// delivered at a later check-in, without a restart, and the run is not
// repeated meanwhile.
func TestResultSavedOnceTheDiskHasRoom(t *testing.T) {
	e := newTestEnv(t)
	var full atomic.Bool
	full.Store(true)
	a := e.agent(t, Options{Exec: func(context.Context, executor.Request) executor.Result {
		now := time.Now()
		return executor.Result{Status: executor.Succeeded, Stdout: "done\n", StartedAt: now, FinishedAt: now}
	}})
	ob, err := outbox.OpenWith(filepath.Join(e.state, outboxDir), func(name string, data []byte, mode os.FileMode) error {
		if full.Load() {
			return syscall.ENOSPC
		}
		return atomicfile.WriteFile(name, data, mode)
	})
	if err != nil {
		t.Fatal(err)
	}
	a.outbox = ob
	p := assignedCheckin(t, e, a, "echo done\n", protocol.RunAsRoot, &protocol.ConfigurationRef{ID: "cfg_default", Name: "default", Version: 1})
	if err := a.RunDue(context.Background(), p); err == nil || !strings.Contains(err.Error(), "queue result") {
		t.Fatalf("RunDue on a full disk = %v, want the save error", err)
	}
	// Still full: nothing reaches the server, and the run is not due again.
	if _, err := a.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := serverResults(t, e); len(got) != 0 {
		t.Fatalf("%d results on the server while the disk is full", len(got))
	}
	if due, _ := a.dueNow(p, time.Now()); len(due) != 0 {
		t.Fatalf("the run is due again while its result waits: %+v", due)
	}
	full.Store(false)
	if n, err := a.Flush(context.Background()); err != nil || n != 1 {
		t.Fatalf("Flush once there is room = %d, %v; want the result delivered", n, err)
	}
	got := serverResults(t, e)
	if len(got) != 1 {
		t.Fatalf("%d results on the server, want 1", len(got))
	}
	for _, r := range got {
		if r.Stdout != "done\n" || r.Status != protocol.StatusSucceeded {
			t.Fatalf("result %+v", r)
		}
	}
	if due, _ := a.dueNow(p, time.Now()); len(due) != 0 {
		t.Fatalf("run-once due again after its result was saved: %+v", due)
	}
}

// An answer over the agent's limit is refused, and the agent asks for half
// as much next time, so it never locks itself out.
func TestOversizedAnswerAsksForLess(t *testing.T) {
	e := newTestEnv(t)
	a := e.agent(t, Options{})
	e.mu.Lock()
	e.oversize = protocol.MaxResponseBody + 1
	e.mu.Unlock()
	if _, err := a.Checkin(context.Background()); !errors.Is(err, ErrAnswerTooLarge) {
		t.Fatalf("oversized answer: %v, want ErrAnswerTooLarge", err)
	}
	if got := e.lastCheckin(t).MaxResponseBytes; got != protocol.MaxResponseBody {
		t.Fatalf("first check-in asked for %d", got)
	}
	if _, err := a.Checkin(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := e.lastCheckin(t).MaxResponseBytes; got != protocol.MaxResponseBody/2 {
		t.Fatalf("after an oversized answer the agent asks for %d, want %d", got, protocol.MaxResponseBody/2)
	}
}
