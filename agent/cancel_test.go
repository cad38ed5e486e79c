package agent

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/mobileatwork/mobileatwork/executor"
	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// blockingExec runs until its context ends, and ends as the executor does:
// cancelled when the cause is executor.ErrCancelled, else interrupted.
type blockingExec struct {
	started chan struct{}
	runs    int
}

func newBlockingExec() *blockingExec { return &blockingExec{started: make(chan struct{}, 10)} }

func (b *blockingExec) run(ctx context.Context, _ executor.Request) executor.Result {
	b.runs++
	now := time.Now()
	b.started <- struct{}{}
	<-ctx.Done()
	res := executor.Result{Status: executor.Error, ExitCode: 143, StartedAt: now, FinishedAt: time.Now(), Error: "interrupted"}
	if cause := context.Cause(ctx); errors.Is(cause, executor.ErrCancelled) {
		res.Status, res.Error = executor.Cancelled, cause.Error()
	}
	return res
}

// cancelAgent is an agent that announces cancel, with a blocking executor
// and a clock of its own: nothing here waits for time to pass.
func cancelAgent(t *testing.T, e *testEnv) (*Agent, *blockingExec) {
	t.Helper()
	bx := newBlockingExec()
	a := e.agent(t, Options{Exec: bx.run, Capabilities: []string{protocol.CapSchedule, protocol.CapCancel},
		Clock: clockwork.NewFakeClockAt(time.Now())}) // check-in answers are checked against it
	return a, bx
}

// runInBackground runs what p holds as the daemon does, and returns when
// it ended.
func runInBackground(t *testing.T, a *Agent, p *protocol.CheckinPayload) <-chan error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- a.RunDue(t.Context(), p) }()
	return done
}

func statusOf(t *testing.T, e *testEnv, configID string) store.DeviceStatus {
	t.Helper()
	sts, err := e.srv.Store.ConfigStatuses(t.Context(), configID)
	if err != nil || len(sts) != 1 {
		t.Fatalf("statuses of %s = %+v, %v", configID, sts, err)
	}
	return sts[0]
}

// A cancel order in a check-in stops the running script, which is
// reported cancelled and settled: the run-once never runs again, and the
// server's status goes from cancelling to the result's.
func TestCancelOrderStopsTheRunningScript(t *testing.T) {
	e := newTestEnv(t)
	a, bx := cancelAgent(t, e)
	ctx := t.Context()
	p := assignedCheckin(t, e, a, "#!/bin/sh\nsleep 600\n", "", testConfiguration)
	id := p.Assignments[0].ID
	done := runInBackground(t, a, p)
	<-bx.started
	rep, err := e.srv.Cancel(ctx, id, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Devices) != 1 || rep.Devices[0].Outcome != server.CancelAskedToStop {
		t.Fatalf("cancel report %+v, want the device asked to stop", rep.Devices)
	}
	if st := statusOf(t, e, id); st.Status != store.StatusCancelling {
		t.Fatalf("status %s, want cancelling", st.Status)
	}
	p2, err := a.Checkin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(p2.Cancel) != 1 || p2.Cancel[0].ID != id {
		t.Fatalf("payload's cancel orders = %+v, want %s", p2.Cancel, id)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	rs := pending(t, a)
	if len(rs) != 1 || rs[0].Status != protocol.StatusCancelled || !strings.Contains(rs[0].Error, "cancelled by the administrator") {
		t.Fatalf("results %+v, want one cancelled by the administrator", rs)
	}
	if _, err := a.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if st := statusOf(t, e, id); st.Status != protocol.StatusCancelled {
		t.Fatalf("status once the result arrived: %s, want cancelled", st.Status)
	}
	// The old payload again: the run-once is settled, never rerun.
	if err := a.RunDue(ctx, p); err != nil {
		t.Fatal(err)
	}
	if bx.runs != 1 {
		t.Fatalf("%d runs, want 1: a cancelled run-once ran again", bx.runs)
	}
	if e, _ := a.ledger.Get(id); !e.Done || e.Started != nil {
		t.Fatalf("ledger entry %+v, want done", e)
	}
}

// A run cancelled before it started is not run: withdrawn from the
// payload, a batch started on an older payload skips it.
func TestCancelledBeforeItStartsIsNotRun(t *testing.T) {
	e := newTestEnv(t)
	fx := &fakeExec{status: executor.Succeeded}
	a := e.agent(t, Options{Exec: fx.run, Capabilities: []string{protocol.CapCancel}, Clock: clockwork.NewFakeClockAt(time.Now())})
	ctx := t.Context()
	p := assignedCheckin(t, e, a, "#!/bin/sh\necho hi\n", "", testConfiguration)
	id := p.Assignments[0].ID
	rep, err := e.srv.Cancel(ctx, id, []string{a.DeviceID()})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Devices[0].Outcome != server.CancelCancelled || rep.Devices[0].Status.Status != store.StatusCancelled {
		t.Fatalf("cancel report %+v, want cancelled", rep.Devices)
	}
	p2, err := a.Checkin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(p2.Assignments) != 0 {
		t.Fatalf("a cancelled configuration is still sent: %+v", p2.Assignments)
	}
	if err := a.RunDue(ctx, p); err != nil {
		t.Fatal(err)
	}
	if n := fx.runs.Load(); n != 0 {
		t.Fatalf("%d runs of a cancelled configuration", n)
	}
	if rs := pending(t, a); len(rs) != 0 {
		t.Fatalf("results %+v, want none", rs)
	}
}

// Stopped scripts: the running one is stopped and reported cancelled with
// the brake's reason, nothing else runs until they are resumed.
func TestStoppedAgentRunsNothingAndStopsTheRunning(t *testing.T) {
	e := newTestEnv(t)
	a, bx := cancelAgent(t, e)
	ctx := t.Context()
	p := assignedCheckin(t, e, a, "#!/bin/sh\nsleep 600\n", "", testConfiguration)
	done := runInBackground(t, a, p)
	<-bx.started
	if _, err := e.srv.StopScripts(ctx, nil, "incident 42"); err != nil {
		t.Fatal(err)
	}
	p2, err := a.Checkin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !p2.Config.ScriptsStopped || !strings.Contains(p2.Config.ScriptsStoppedReason, "incident 42") {
		t.Fatalf("payload settings %+v, want scripts stopped with the reason", p2.Config)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	rs := pending(t, a)
	if len(rs) != 1 || rs[0].Status != protocol.StatusCancelled || !strings.Contains(rs[0].Error, "scripts stopped tenant-wide: incident 42") {
		t.Fatalf("results %+v, want one cancelled naming the brake", rs)
	}
	if st := a.Status(); st.Config == nil || !st.Config.ScriptsStopped {
		t.Fatalf("status does not show the brake: %+v", st.Config)
	}

	// Another script is assigned: nothing runs while stopped.
	sc, err := e.srv.AddScript(ctx, "second script", "", []byte("#!/bin/sh\nsleep 600\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.srv.Assign(ctx, "", "", server.ScriptRequest{Script: sc.ID}, []string{"all"}); err != nil {
		t.Fatal(err)
	}
	p3, err := a.Checkin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.RunDue(ctx, p3); err != nil {
		t.Fatal(err)
	}
	if bx.runs != 1 {
		t.Fatalf("%d runs while scripts are stopped, want the first alone", bx.runs)
	}

	if _, err := e.srv.ResumeScripts(ctx, nil); err != nil {
		t.Fatal(err)
	}
	p4, err := a.Checkin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if p4.Config.ScriptsStopped {
		t.Fatal("scripts still stopped after resume")
	}
	done = runInBackground(t, a, p4)
	<-bx.started // the new script runs
	a.runs.mu.Lock()
	a.runs.current.stop(errors.New("test over"))
	a.runs.mu.Unlock()
	<-done
	if bx.runs != 2 {
		t.Fatalf("%d runs after resume, want 2", bx.runs)
	}
}
