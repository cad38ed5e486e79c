package agent

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/mobileatwork/mobileatwork/agent/ledger"
	"github.com/mobileatwork/mobileatwork/executor"
	"github.com/mobileatwork/mobileatwork/internal/atomicfile"
	"github.com/mobileatwork/mobileatwork/internal/logging"
	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/protocol/schedule"
	"github.com/mobileatwork/mobileatwork/server"
)

var testConfiguration = &protocol.ConfigurationRef{ID: "cfg_1", Name: "Default", Version: 2}

// fakeExec counts runs and ends each as status says.
type fakeExec struct {
	runs   atomic.Int32
	status executor.Status
	body   atomic.Value // []byte of the last run
}

func (f *fakeExec) run(_ context.Context, req executor.Request) executor.Result {
	f.runs.Add(1)
	f.body.Store(req.Script)
	now := time.Now()
	return executor.Result{Status: f.status, ExitCode: map[executor.Status]int{executor.Failed: 3}[f.status], StartedAt: now, FinishedAt: now}
}

// assignedCheckin stores body as a script assigned to every device, checks
// in and returns the payload with configuration set, whatever the server
// put there.
func assignedCheckin(t *testing.T, e *testEnv, a *Agent, body, runAs string, configuration *protocol.ConfigurationRef) *protocol.CheckinPayload {
	t.Helper()
	ctx := context.Background()
	sc, err := e.srv.AddScript(ctx, "test script", "", []byte(body), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.srv.Assign(ctx, "", "", server.ScriptRequest{Script: sc.ID, RunAs: runAs}, []string{"all"}); err != nil {
		t.Fatal(err)
	}
	p, err := a.Checkin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Assignments) != 1 {
		t.Fatalf("payload has %d assignments, want 1", len(p.Assignments))
	}
	p.Configuration = configuration
	return p
}

func pending(t *testing.T, a *Agent) []protocol.Result {
	t.Helper()
	rs, err := a.outbox.Pending()
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// Every result of a verified script names the digest of the body that ran;
// a refused script names none.
func TestResultNamesScriptDigest(t *testing.T) {
	const body = "#!/bin/sh\necho digest\n"
	want := protocol.SHA256Hex([]byte(body))
	noUser := func() (executor.User, error) { return executor.User{}, errors.New("login window") }
	tests := []struct {
		name       string
		exec       executor.Status
		runAs      string
		noConsole  bool
		tamper     bool
		wantStatus string
		wantRuns   int32
		wantDigest string
	}{
		{name: "succeeded", exec: executor.Succeeded, wantStatus: protocol.StatusSucceeded, wantRuns: 1, wantDigest: want},
		{name: "failed", exec: executor.Failed, wantStatus: protocol.StatusFailed, wantRuns: 1, wantDigest: want},
		{name: "timed out", exec: executor.TimedOut, wantStatus: protocol.StatusTimedOut, wantRuns: 1, wantDigest: want},
		{name: "executor error", exec: executor.Error, wantStatus: protocol.StatusError, wantRuns: 1, wantDigest: want},
		{name: "waits for a console user", exec: executor.Succeeded, runAs: protocol.RunAsConsoleUser, noConsole: true,
			wantStatus: protocol.StatusError, wantRuns: 0, wantDigest: want},
		{name: "rejected", exec: executor.Succeeded, tamper: true, wantStatus: protocol.StatusRejected, wantRuns: 0, wantDigest: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t)
			fx := &fakeExec{status: tt.exec}
			o := Options{Exec: fx.run}
			if tt.noConsole {
				o.ConsoleUser = noUser
			}
			a := e.agent(t, o)
			p := assignedCheckin(t, e, a, body, tt.runAs, testConfiguration)
			e.setTamper(tt.tamper)
			if err := a.RunDue(context.Background(), p); err != nil {
				t.Fatal(err)
			}
			rs := pending(t, a)
			if len(rs) != 1 {
				t.Fatalf("%d results, want 1", len(rs))
			}
			if r := rs[0]; r.Status != tt.wantStatus || r.ScriptSHA256 != tt.wantDigest {
				t.Errorf("result %s with digest %q, want %s with %q", r.Status, r.ScriptSHA256, tt.wantStatus, tt.wantDigest)
			}
			if got := fx.runs.Load(); got != tt.wantRuns {
				t.Fatalf("%d runs, want %d", got, tt.wantRuns)
			}
			if tt.wantRuns > 0 && string(fx.body.Load().([]byte)) != body {
				t.Errorf("ran %q, want %q", fx.body.Load(), body)
			}
		})
	}
}

// A run the agent did not live to finish is reported with the digest
// recorded when it started.
func TestInterruptedRunNamesScriptDigest(t *testing.T) {
	e := newTestEnv(t)
	a := e.agent(t, Options{})
	started := &ledger.Started{RunID: "run_1", At: time.Now().UTC(), ScriptSHA256: "ab12"}
	if err := a.ledger.Put(ledger.Entry{AssignmentID: "asg_1", Version: 1, Schedule: "once", Started: started}); err != nil {
		t.Fatal(err)
	}
	if err := a.recoverInterrupted(); err != nil {
		t.Fatal(err)
	}
	rs := pending(t, a)
	if len(rs) != 1 || rs[0].ScriptSHA256 != "ab12" || rs[0].Status != protocol.StatusError {
		t.Fatalf("results %+v, want one error naming digest ab12", rs)
	}
}

// Without a Mobile@Work configuration nothing runs, even when the payload
// lists assignments; the warning is logged once per change and reaches the
// next check-in.
func TestNoConfigurationRunsNothing(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	fx := &fakeExec{status: executor.Succeeded}
	recent := logging.NewAgentRecent()
	a := e.agent(t, Options{Exec: fx.run, Log: zap.New(recent.Core(zapcore.InfoLevel)), RecentLog: recent})
	p := assignedCheckin(t, e, a, "#!/bin/sh\ntrue\n", "", nil)

	warnings := func() int {
		n := 0
		for _, l := range recent.Lines() {
			if l.Message == noConfigurationWarning && l.Level == "warn" {
				n++
			}
		}
		return n
	}
	steps := []struct {
		configuration *protocol.ConfigurationRef
		wantRuns      int32
		wantWarnings  int
		wantNext      int
	}{
		{nil, 0, 1, 0},
		{nil, 0, 1, 0}, // the daemon's next wake-up: no new warning
		{testConfiguration, 1, 1, 1},
		{nil, 1, 2, 0}, // withdrawn: warned again
	}
	for i, s := range steps {
		p.Configuration = s.configuration
		if err := a.RunDue(ctx, p); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if got := fx.runs.Load(); got != s.wantRuns {
			t.Errorf("step %d: %d runs, want %d", i, got, s.wantRuns)
		}
		if got := warnings(); got != s.wantWarnings {
			t.Errorf("step %d: %d warnings, want %d: %+v", i, got, s.wantWarnings, recent.Lines())
		}
		if got := len(a.nextRuns(p, time.Now())); got != s.wantNext {
			t.Errorf("step %d: status lists %d next runs, want %d", i, got, s.wantNext)
		}
	}
	if _, seen := a.ledger.Get(p.Assignments[0].ID); !seen {
		t.Error("the run with a configuration left no ledger entry")
	}
	if _, err := a.Checkin(ctx); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, l := range e.lastCheckin(t).RecentLog {
		if l.Message == noConfigurationWarning {
			n++
		}
	}
	if n != 2 {
		t.Errorf("the check-in carries %d no-configuration warnings, want 2", n)
	}
}

func TestNoConfigurationNoWake(t *testing.T) {
	daily := protocol.Assignment{ID: "asg_d", Version: 1, Schedule: schedule.Spec{Kind: "daily", At: "09:00", TZ: "utc"}}
	now := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	tests := []struct {
		name          string
		configuration *protocol.ConfigurationRef
		want          bool
	}{
		{"configured", testConfiguration, true},
		{"none distributed", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &Agent{o: Options{Location: time.UTC}}
			p := &protocol.CheckinPayload{Configuration: tt.configuration, Assignments: []protocol.Assignment{daily}}
			if _, got := a.nextWake(p, now); got != tt.want {
				t.Errorf("wakes = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestStatusShowsConfiguration(t *testing.T) {
	tests := []struct {
		name          string
		payload       *protocol.CheckinPayload
		wantConfig    bool
		configuration *protocol.ConfigurationRef
	}{
		{"never checked in", nil, false, nil},
		{"none distributed", &protocol.CheckinPayload{Config: protocol.DefaultConfig}, true, nil},
		{"configured", &protocol.CheckinPayload{Config: protocol.DefaultConfig, Configuration: testConfiguration}, true, testConfiguration},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t)
			a := e.agent(t, Options{})
			if tt.payload != nil {
				if err := atomicfile.WriteJSON(filepath.Join(e.state, payloadFile), tt.payload, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			a.saveStatus(Status{Configuration: testConfiguration}) // derived, never stored
			st := a.Status()
			if (st.Config != nil) != tt.wantConfig {
				t.Errorf("Config = %+v, want set: %v", st.Config, tt.wantConfig)
			}
			if !sameConfiguration(st.Configuration, tt.configuration) {
				t.Errorf("Configuration = %+v, want %+v", st.Configuration, tt.configuration)
			}
		})
	}
}

// An assignment whose run_as the agent does not know is never run (not as
// root either): it is reported once as an error and settled.
func TestUnknownRunAsIsRefused(t *testing.T) {
	for _, runAs := range []string{"", "admin", "Root", "console_user "} {
		t.Run(runAs, func(t *testing.T) {
			e := newTestEnv(t)
			fx := &fakeExec{status: executor.Succeeded}
			a := e.agent(t, Options{Exec: fx.run})
			p := assignedCheckin(t, e, a, "#!/bin/sh\nid -u\n", protocol.RunAsRoot, testConfiguration)
			p.Assignments[0].RunAs = runAs
			for range 2 {
				if err := a.RunDue(context.Background(), p); err != nil {
					t.Fatal(err)
				}
			}
			if n := fx.runs.Load(); n != 0 {
				t.Fatalf("ran %d times, want never", n)
			}
			rs := pending(t, a)
			if len(rs) != 1 {
				t.Fatalf("%d results, want 1", len(rs))
			}
			if r := rs[0]; r.Status != protocol.StatusError || !strings.Contains(r.Error, "unknown run_as") || r.AssignmentID != p.Assignments[0].ID {
				t.Errorf("result %s %q, want an error naming the unknown run_as", r.Status, r.Error)
			}
		})
	}
}

// A console-user script gets its run directory in the parent of root's that
// the user may only traverse, never in the system temp directory, where the
// user could swap its directory for a link; a root script gets it in the
// state directory.
func TestRunDirectoryParent(t *testing.T) {
	me := executor.User{UID: 501, GID: 20, Name: "ada", Home: "/Users/ada"}
	for _, runAs := range []string{protocol.RunAsRoot, protocol.RunAsConsoleUser} {
		t.Run(runAs, func(t *testing.T) {
			e := newTestEnv(t)
			userRuns := filepath.Join(t.TempDir(), "user-runs")
			var got executor.Request
			exec := func(_ context.Context, req executor.Request) executor.Result {
				got = req
				now := time.Now()
				return executor.Result{Status: executor.Succeeded, StartedAt: now, FinishedAt: now}
			}
			a := e.agent(t, Options{Exec: exec, UserRunDir: userRuns,
				ConsoleUser: func() (executor.User, error) { return me, nil }})
			p := assignedCheckin(t, e, a, "id -u\n", runAs, testConfiguration)
			if err := a.RunDue(context.Background(), p); err != nil {
				t.Fatal(err)
			}
			want, mode := filepath.Join(e.state, runDir), os.FileMode(0o700)
			if runAs == protocol.RunAsConsoleUser {
				want, mode = userRuns, 0o711
			}
			if got.TempDir != want {
				t.Fatalf("run directory parent %q, want %q", got.TempDir, want)
			}
			fi, err := os.Stat(want)
			if err != nil || fi.Mode().Perm() != mode {
				t.Fatalf("parent %s: %v %v, want mode %v", want, fi, err, mode)
			}
		})
	}
}
