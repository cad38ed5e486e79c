package agent

import (
	"context"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/mobileatwork/mobileatwork/executor"
	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/protocol/schedule"
	"github.com/mobileatwork/mobileatwork/server"
)

// At debug level the agent says what it received and, for each
// assignment, whether it is due and why.
func TestDebugLogExplainsDecisions(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	core, logs := observer.New(zapcore.DebugLevel)
	fx := &fakeExec{status: executor.Succeeded}
	a := e.agent(t, Options{Exec: fx.run, Log: zap.New(core), Capabilities: []string{protocol.CapSchedule}})

	sc, err := e.srv.AddScript(ctx, "hello", "", []byte("#!/bin/sh\necho hi\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	once, _, err := e.srv.Assign(ctx, "Say hello", "", server.ScriptRequest{Script: sc.ID}, []string{"all"})
	if err != nil {
		t.Fatal(err)
	}
	// Start in the future: never due during the test, whatever the clock says.
	daily := schedule.Spec{Kind: schedule.Daily, At: "09:00", TZ: "utc", Start: "2999-01-01"}
	later, _, err := e.srv.Assign(ctx, "Daily", "", server.ScriptRequest{Script: sc.ID, Schedule: &daily}, []string{"all"})
	if err != nil {
		t.Fatal(err)
	}

	// line returns the latest debug line with message msg about assignment id ("" for any).
	line := func(msg, id string) (observer.LoggedEntry, bool) {
		all := logs.All()
		for i := len(all) - 1; i >= 0; i-- {
			if l := all[i]; l.Level == zapcore.DebugLevel && l.Message == msg && (id == "" || l.ContextMap()["assignment"] == id) {
				return l, true
			}
		}
		return observer.LoggedEntry{}, false
	}
	if err := a.Cycle(ctx); err != nil {
		t.Fatal(err)
	}
	if fx.runs.Load() != 1 {
		t.Fatalf("%d runs, want 1", fx.runs.Load())
	}
	l, ok := line("checked in", "")
	if !ok {
		t.Fatalf("no check-in line: %v", messages(logs))
	}
	if f := l.ContextMap(); !strings.Contains(f["configuration"].(string), "cfg_default") || f["assignments"] != int64(2) {
		t.Errorf("check-in line %v: want the default configuration and 2 assignments", f)
	}
	l, ok = line("due: run-once, not run yet", once.ID)
	if !ok {
		t.Fatalf("no due line naming %s: %v", once.ID, messages(logs))
	}
	if l.ContextMap()["name"] != "Say hello" {
		t.Errorf("due line %v: want the configuration's name", l.ContextMap())
	}
	if l, ok := line("not due yet", later.ID); !ok || l.ContextMap()["next"] == nil {
		t.Errorf("no not-due line with the next run for %s: %v", later.ID, messages(logs))
	}
	if l, ok := line("results delivered", ""); !ok || l.ContextMap()["delivered"] != int64(1) {
		t.Errorf("no line saying the result was delivered: %v", messages(logs))
	}

	// The daemon's next wake-up hands the same payload over again.
	p, err := a.lastPayload()
	if err != nil {
		t.Fatal(err)
	}
	logs.TakeAll()
	if err := a.RunDue(ctx, p); err != nil {
		t.Fatal(err)
	}
	if _, ok := line("not due: run-once, already run", once.ID); !ok {
		t.Errorf("next wake-up: no line saying %s already ran: %v", once.ID, messages(logs))
	}
}

func messages(logs *observer.ObservedLogs) []string {
	var out []string
	for _, l := range logs.All() {
		out = append(out, l.Level.String()+" "+l.Message)
	}
	return out
}
