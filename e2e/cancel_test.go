package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/agent"
	"github.com/mobileatwork/mobileatwork/internal/cli"
	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// cancellingDaemon is an online daemon that announces cancel and checks
// in every 15 minutes: whatever reaches it in seconds came over the wake
// channel.
func cancellingDaemon(t *testing.T, e *env) *agent.Agent {
	t.Helper()
	a := newAgentWith(t, e.enroll(), func(o *agent.Options) {
		o.Interval = 15 * time.Minute
		o.Capabilities = []string{protocol.CapSchedule, protocol.CapCancel}
	})
	daemon(t, a)
	checkedIn(t, e.srv, a.DeviceID())
	return a
}

// statusOn is the status of configuration id on device dev, "" for none.
func statusOn(t *testing.T, s *server.Server, id, dev string) string {
	t.Helper()
	sts, err := s.Store.ConfigStatuses(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range sts {
		if st.DeviceID == dev {
			return st.Status
		}
	}
	return ""
}

// runningOn starts a long script now on the daemon and waits until it runs.
func runningOn(t *testing.T, e *env, a *agent.Agent) server.RunNow {
	t.Helper()
	sc := e.addScript("#!/bin/sh\necho started\nexec sleep 600\n", nil)
	rn, err := e.srv.RunNow(context.Background(), server.RunNowRequest{Script: sc.ID, Devices: []string{a.DeviceID()}})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "the long script to run", func() (bool, error) {
		return statusOn(t, e.srv, rn.Config.ID, a.DeviceID()) == store.StatusRunning, nil
	})
	return rn
}

// oneResult waits for the one result of configuration id.
func oneResult(t *testing.T, s *server.Server, id, what string) store.StoredResult {
	t.Helper()
	waitFor(t, 30*time.Second, what, func() (bool, error) { return len(resultsOf(t, s, id)) > 0, nil })
	rs := resultsOf(t, s, id)
	if len(rs) != 1 {
		t.Fatalf("%d results of %s, want 1: %+v", len(rs), id, rs)
	}
	return rs[0]
}

// Cancelled before the device checked in, a run never happens there.
func TestCancelBeforeTheRunRunsNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := newAgentWith(t, e.enroll(), func(o *agent.Options) { o.Capabilities = []string{protocol.CapSchedule, protocol.CapCancel} })
	sc := e.addScript("#!/bin/sh\necho should not run\n", nil)
	rn, err := e.srv.RunNow(context.Background(), server.RunNowRequest{Script: sc.ID, Devices: []string{b.DeviceID()}})
	if err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := run(t, "mobileatwork-server", "config", "cancel", rn.Config.ID, "--data", e.data)
	if code != 0 || !strings.Contains(stdout, b.DeviceID()) || !strings.Contains(stdout, server.CancelCancelled) {
		t.Fatalf("config cancel: exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	if err := b.Cycle(context.Background()); err != nil {
		t.Fatal(err)
	}
	if rs := resultsOf(t, e.srv, rn.Config.ID); len(rs) != 0 {
		t.Fatalf("a cancelled run ran: %+v", rs)
	}
	// Twice: not an error, and it says nothing was left.
	_, stderr, code = run(t, "mobileatwork-server", "config", "cancel", rn.Config.ID, "--data", e.data)
	if code != 0 || !strings.Contains(stderr, "nothing left to cancel") {
		t.Fatalf("config cancel again: exit %d\nstderr %s", code, stderr)
	}
}

// A running script on an online daemon with a 15-minute interval is
// stopped within seconds of `config cancel` and reported cancelled.
func TestCancelStopsARunningScriptInSeconds(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.watchWakes(t)
	e.config("max_execution_seconds=900")
	a := cancellingDaemon(t, e)
	rn := runningOn(t, e, a)

	start := time.Now()
	stdout, stderr, code := run(t, "mobileatwork-server", "config", "cancel", rn.Config.ID, "--device", a.DeviceID(), "--json", "--data", e.data)
	var doc struct {
		Devices []struct {
			ID      string `json:"id"`
			Outcome string `json:"outcome"`
			Status  struct {
				Status string `json:"status"`
			} `json:"status"`
		} `json:"devices"`
	}
	if probs := cli.JSONProblems([]byte(stdout)); len(probs) > 0 {
		t.Fatalf("config cancel --json: %v", probs)
	}
	if err := json.Unmarshal([]byte(stdout), &doc); code != 0 || err != nil || len(doc.Devices) != 1 ||
		doc.Devices[0].Outcome != server.CancelAskedToStop || doc.Devices[0].Status.Status != store.StatusCancelling {
		t.Fatalf("config cancel --json: exit %d, %v\nstdout %s\nstderr %s", code, err, stdout, stderr)
	}
	r := oneResult(t, e.srv, rn.Config.ID, "the cancelled run's result")
	if took := time.Since(start); took > 25*time.Second {
		t.Errorf("the running script stopped %s after the cancel, with a 15-minute interval", took)
	}
	if r.Status != protocol.StatusCancelled || !strings.Contains(r.Error, "cancelled by the administrator") || r.Stdout != "started\n" {
		t.Fatalf("result %s (%q), stdout %q; want cancelled by the administrator", r.Status, r.Error, r.Stdout)
	}
	waitFor(t, 10*time.Second, "the status to follow the result", func() (bool, error) {
		return statusOn(t, e.srv, rn.Config.ID, a.DeviceID()) == protocol.StatusCancelled, nil
	})
}

// The brake: a tenant-wide stop kills the running script and nothing else
// runs; once resumed, scripts run again.
func TestStopScriptsKillsAndResumeRunsAgain(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.watchWakes(t)
	e.config("max_execution_seconds=900")
	a := cancellingDaemon(t, e)
	rn := runningOn(t, e, a)

	stdout, stderr, code := run(t, "mobileatwork-server", "stop-scripts", "--reason", "incident 42", "--json", "--data", e.data)
	var stop struct {
		Stopped bool     `json:"stopped"`
		Tenant  bool     `json:"tenant"`
		Reason  string   `json:"reason"`
		Devices []string `json:"devices"`
	}
	if err := json.Unmarshal([]byte(stdout), &stop); code != 0 || err != nil || !stop.Stopped || !stop.Tenant ||
		stop.Reason != "incident 42" || len(stop.Devices) != 1 || len(cli.JSONProblems([]byte(stdout))) > 0 {
		t.Fatalf("stop-scripts --json: exit %d, %v\nstdout %s\nstderr %s", code, err, stdout, stderr)
	}
	r := oneResult(t, e.srv, rn.Config.ID, "the stopped run's result")
	if r.Status != protocol.StatusCancelled || !strings.Contains(r.Error, "scripts stopped tenant-wide: incident 42") {
		t.Fatalf("result %s (%q); want cancelled naming the brake", r.Status, r.Error)
	}

	// Another run now reaches the device, which holds it and runs nothing.
	sc := e.addScript("#!/bin/sh\necho after\n", nil)
	next, err := e.srv.RunNow(context.Background(), server.RunNowRequest{Script: sc.ID, Devices: []string{a.DeviceID()}})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "the device to receive the next run", func() (bool, error) {
		return statusOn(t, e.srv, next.Config.ID, a.DeviceID()) == store.StatusScheduled, nil
	})
	stdout, _, _ = run(t, "mobileatwork-server", "device", "show", a.DeviceID(), "--data", e.data)
	if !strings.Contains(stdout, "scripts stopped tenant-wide: incident 42") {
		t.Fatalf("device show does not say scripts are stopped:\n%s", stdout)
	}
	if rs := resultsOf(t, e.srv, next.Config.ID); len(rs) != 0 {
		t.Fatalf("a script ran while scripts were stopped: %+v", rs)
	}

	if _, stderr, code := run(t, "mobileatwork-server", "resume-scripts", "--data", e.data); code != 0 {
		t.Fatalf("resume-scripts: exit %d\nstderr %s", code, stderr)
	}
	if r := oneResult(t, e.srv, next.Config.ID, "the run after the resume"); r.Status != protocol.StatusSucceeded || r.Stdout != "after\n" {
		t.Fatalf("after the resume: %s %q", r.Status, r.Stdout)
	}
}

// Every bad input of cancel and the brake is one error line and changes
// nothing.
func TestCancelAndBrakeRefuseBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	dev := newAgent(t, e.enroll()).DeviceID()
	other := newAgent(t, e.enroll()).DeviceID()
	sc := e.addScript("#!/bin/sh\necho hi\n", nil)
	cfg := e.assign(server.ScriptRequest{Script: sc.ID}, "device:"+dev)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"cancel a Mobile@Work configuration", []string{"config", "cancel", "default"}, "only the runs of a script configuration"},
		{"cancel an unknown configuration", []string{"config", "cancel", "nope"}, `no configuration "nope"`},
		{"cancel without REF", []string{"config", "cancel"}, "argument"},
		{"cancel on an unknown device", []string{"config", "cancel", cfg, "--device", "dev_nope"}, `no device "dev_nope"`},
		{"cancel on a device not reached", []string{"config", "cancel", cfg, "--device", other}, "does not reach device " + other},
		{"cancel on two devices in one flag", []string{"config", "cancel", cfg, "--device", dev + "," + other}, "one device id"},
		{"stop an unknown device", []string{"stop-scripts", "--device", "dev_nope"}, `no device "dev_nope"`},
		{"stop with two lines", []string{"stop-scripts", "--reason", "a\nb"}, "one line"},
		{"stop with a long reason", []string{"stop-scripts", "--reason", strings.Repeat("x", 300)}, "at most 256"},
		{"resume an unknown device", []string{"resume-scripts", "--device", "dev_nope"}, `no device "dev_nope"`},
		{"stop with an argument", []string{"stop-scripts", "now"}, "no arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, code := run(t, "mobileatwork-server", append(tt.args, "--data", e.data)...)
			oneErrorLine(t, stderr, code, tt.want)
		})
	}
	ctx := context.Background()
	if stops, _ := e.srv.Store.ScriptsStops(ctx); len(stops) != 0 {
		t.Fatalf("refused commands stopped scripts: %+v", stops)
	}
	if cs, _ := e.srv.Store.Cancellations(ctx, dev); len(cs) != 0 {
		t.Fatalf("refused commands cancelled %+v", cs)
	}
	if c, _ := e.srv.Store.Configuration(ctx, cfg); !c.ExpiresAt.IsZero() {
		t.Fatal("refused commands expired the configuration")
	}
}
