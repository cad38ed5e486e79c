package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/agent"
	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/protocol/schedule"
	"github.com/mobileatwork/mobileatwork/server"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// enrollAs enrolls a fresh state dir for a device of user (may be empty)
// and returns the state dir and the device id.
func (e *env) enrollAs(user string) (string, string) {
	e.t.Helper()
	tok, err := e.srv.CreateToken(context.Background(), user, 1, time.Hour)
	if err != nil {
		e.t.Fatal(err)
	}
	state := filepath.Join(e.t.TempDir(), "state")
	id, err := agent.Enroll(context.Background(), agent.EnrollOptions{
		StateDir: state, ServerURL: e.url, Token: tok, Facts: testFacts, Capabilities: []string{protocol.CapSchedule},
	})
	if err != nil {
		e.t.Fatalf("enroll: %v", err)
	}
	return state, id.DeviceID
}

// statusOf is the status of configuration cfg on device dev as `device show`
// has it.
func (e *env) statusOf(dev, cfg string) store.DeviceStatus {
	e.t.Helper()
	d, err := e.srv.DeviceDetail(context.Background(), dev)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, r := range d.Configurations {
		if r.Config.ID == cfg {
			return r.Status
		}
	}
	e.t.Fatalf("configuration %s does not reach %s", cfg, dev)
	return store.DeviceStatus{}
}

func (e *env) cycle(state string) {
	e.t.Helper()
	if err := newAgent(e.t, state).Cycle(context.Background()); err != nil {
		e.t.Fatalf("cycle: %v", err)
	}
}

// The default Mobile@Work configuration reaches no one after init: a
// script distributed to all is in error on the device and does not run;
// once the default is distributed, it runs at the next check-in.
func TestNoMobileAtWorkConfigurationRunsNoScript(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.srv.Distribute(ctx, "default", []string{"none"}, false); err != nil {
		t.Fatal(err)
	}
	state, dev := e.enrollAs("ada@example.com")
	marker := filepath.Join(t.TempDir(), "ran")
	_, cfg := e.script("touch "+marker+"\necho ran\n", nil)

	e.cycle(state)
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("a script ran on a device that no Mobile@Work configuration reaches")
	}
	if st := e.statusOf(dev, cfg); st.Status != store.StatusError || st.Detail != server.DetailNoMobileAtWork {
		t.Fatalf("status = %s %q; want error %q", st.Status, st.Detail, server.DetailNoMobileAtWork)
	}
	st := newAgent(t, state).Status()
	if st.Configuration != nil || len(st.NextRuns) != 0 {
		t.Fatalf("agent status = configuration %v, next runs %v; want none", st.Configuration, st.NextRuns)
	}
	d, err := e.srv.DeviceDetail(ctx, dev)
	if err != nil || d.InEffect != nil {
		t.Fatalf("device page: in effect %v, %v", d.InEffect, err)
	}

	if _, err := e.srv.Distribute(ctx, "default", []string{"all"}, false); err != nil {
		t.Fatal(err)
	}
	e.cycle(state)
	if _, err := os.Stat(marker); err != nil {
		t.Fatal("the script did not run once the default was distributed")
	}
	if st := e.statusOf(dev, cfg); st.Status != protocol.StatusSucceeded {
		t.Fatalf("status after the run = %s %q, want succeeded", st.Status, st.Detail)
	}
	if st := e.statusOf(dev, store.DefaultConfigID); st.Status != store.StatusInstalled {
		t.Fatalf("default on the device = %s, want installed", st.Status)
	}
	if st := newAgent(t, state).Status(); st.Configuration == nil || st.Configuration.ID != store.DefaultConfigID {
		t.Fatalf("agent status names configuration %v, want the default", st.Configuration)
	}
}

// Two Mobile@Work configurations reaching two device groups give each
// device its own time limit; the one the priority beats is superseded.
func TestMobileAtWorkPriorities(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	fastState, fast := e.enrollAs("ada@example.com")
	slowState, slow := e.enrollAs("bob@example.com")
	if err := e.srv.SetDeviceGroups(ctx, fast, []string{"kiosk"}); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.SetDeviceGroups(ctx, slow, []string{"lab"}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, group, secs string }{{"Kiosk", "kiosk", "1"}, {"Lab", "lab", "30"}} {
		cfg, err := e.srv.AddMobileAtWork(ctx, c.name, "", []string{"max_execution_seconds=" + c.secs, "kill_grace_seconds=1"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.srv.Distribute(ctx, cfg.ID, []string{"group:" + c.group}, false); err != nil {
			t.Fatal(err)
		}
		if _, err := e.srv.SetPriority(ctx, cfg.ID, 1); err != nil {
			t.Fatal(err)
		}
	}
	// A 3-second script: timed out where the limit is 1 s, done where it is 30 s.
	_, cfg := e.script("sleep 3\necho done\n", nil)
	e.cycle(fastState)
	e.cycle(slowState)
	got := map[string]string{}
	for _, r := range e.results() {
		got[r.DeviceID] = r.Status
	}
	if got[fast] != protocol.StatusTimedOut || got[slow] != protocol.StatusSucceeded {
		t.Fatalf("results %v; want %s timed_out (Kiosk, 1 s) and %s succeeded (Lab, 30 s)", got, fast, slow)
	}
	// Both also get the default (distributed to all by the harness), which
	// the group configurations beat.
	for _, dev := range []string{fast, slow} {
		if st := e.statusOf(dev, store.DefaultConfigID); st.Status != store.StatusSuperseded {
			t.Fatalf("default on %s = %s %q, want superseded", dev, st.Status, st.Detail)
		}
	}
	if st := e.statusOf(fast, cfg); st.Status != protocol.StatusTimedOut {
		t.Fatalf("script status on %s = %s", fast, st.Status)
	}
	detail, err := e.srv.ConfigDetail(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if sm := detail.Summary; sm.Reached != 2 || sm.Succeeded != 1 || sm.Failed != 1 {
		t.Fatalf("summary %+v; want 2 reached, 1 succeeded, 1 failed", sm)
	}
}

// A daily configuration withdrawn from the device stops running there; the
// agent forgets it in its status, and the server keeps the past results.
func TestWithdrawnDailyStopsRunning(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	c := newClock(time.Date(2027, 5, 3, 8, 0, 0, 0, time.UTC))
	state, dev := e.enrollAs("ada@example.com")
	e.srv.Now = c.Now
	counter := filepath.Join(t.TempDir(), "count")
	spec, err := schedule.Parse(schedule.Daily, "09:00", nil, schedule.UTC, "", "")
	if err != nil {
		t.Fatal(err)
	}
	cfg := e.assign(server.ScriptRequest{Script: e.addScript("echo run >> "+counter+"\n", nil).ID, Schedule: &spec}, "all")
	cycle := cycleAt(t, state, c, time.UTC)
	runs := func() int {
		b, _ := os.ReadFile(counter)
		return strings.Count(string(b), "run")
	}
	cycle(time.Date(2027, 5, 3, 8, 0, 0, 0, time.UTC))
	if st := e.statusOf(dev, cfg); st.Status != store.StatusScheduled || !st.NextRun.Equal(time.Date(2027, 5, 3, 9, 0, 0, 0, time.UTC)) {
		t.Fatalf("status before the first run = %s next %v", st.Status, st.NextRun)
	}
	cycle(time.Date(2027, 5, 3, 9, 5, 0, 0, time.UTC))
	cycle(time.Date(2027, 5, 4, 9, 5, 0, 0, time.UTC))
	if n := runs(); n != 2 {
		t.Fatalf("%d runs over two days, want 2", n)
	}
	if _, err := e.srv.Distribute(ctx, cfg, []string{"none"}, false); err != nil {
		t.Fatal(err)
	}
	cycle(time.Date(2027, 5, 5, 9, 5, 0, 0, time.UTC))
	cycle(time.Date(2027, 5, 6, 9, 5, 0, 0, time.UTC))
	if n := runs(); n != 2 {
		t.Fatalf("%d runs after the withdrawal, want still 2", n)
	}
	if nr := scheduledAgent(t, state, c, time.UTC, "1.80.0", []string{protocol.CapSchedule}).Status().NextRuns; len(nr) != 0 {
		t.Fatalf("agent status still lists %v", nr)
	}
	if rs, _ := e.srv.Results(ctx, server.ResultQuery{Config: cfg}); len(rs) != 2 {
		t.Fatalf("%d results kept, want 2", len(rs))
	}
	if d, _ := e.srv.ConfigDetail(ctx, cfg); len(d.Devices) != 0 {
		t.Fatalf("withdrawn configuration still lists devices %v", d.Devices)
	}
	// Deleted too: the same holds, and the device page no longer shows it.
	if _, err := e.srv.DeleteConfiguration(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	cycle(time.Date(2027, 5, 7, 9, 5, 0, 0, time.UTC))
	if n := runs(); n != 2 {
		t.Fatalf("%d runs after deletion", n)
	}
	if rs, _ := e.srv.Results(ctx, server.ResultQuery{Device: dev}); len(rs) != 2 {
		t.Fatalf("%d results after deletion, want the 2 kept", len(rs))
	}
}

// A new script body reaches the devices of every configuration using it:
// a run-once configuration runs again, with the new body, and each result
// names the digest of the body that ran.
func TestEditedScriptRunsItsNewBody(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	state, _ := e.enrollAs("ada@example.com")
	sc := e.addScript("echo first\n", nil)
	cfg := e.assign(server.ScriptRequest{Script: sc.ID}, "all")
	e.cycle(state)
	sc2, err := e.srv.UpdateScript(ctx, sc.ID, server.ScriptUpdate{Body: []byte("echo second\n")})
	if err != nil {
		t.Fatal(err)
	}
	e.cycle(state)
	e.cycle(state) // run once per version: not a third time
	rs, err := e.srv.Results(ctx, server.ResultQuery{Config: cfg})
	if err != nil || len(rs) != 2 {
		t.Fatalf("%d results, %v; want 2", len(rs), err)
	}
	if rs[0].Stdout != "first\n" || rs[0].ScriptSHA256 != sc.SHA256 || rs[0].AssignmentVersion != 1 {
		t.Fatalf("first run: %q sha %s v%d; want the first body %s v1", rs[0].Stdout, rs[0].ScriptSHA256, rs[0].AssignmentVersion, sc.SHA256)
	}
	if rs[1].Stdout != "second\n" || rs[1].ScriptSHA256 != sc2.SHA256 || rs[1].AssignmentVersion != 2 {
		t.Fatalf("second run: %q sha %s v%d; want the new body %s v2", rs[1].Stdout, rs[1].ScriptSHA256, rs[1].AssignmentVersion, sc2.SHA256)
	}
	if sc.SHA256 == sc2.SHA256 {
		t.Fatal("both versions have the same digest")
	}
}

// A configuration distributed to a user group reaches the devices of its
// members, and follows membership changes at the next check-in.
func TestUserGroupDistribution(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	adaState, ada := e.enrollAs("ada@example.com")
	bobState, bob := e.enrollAs("bob@example.com")
	if _, err := e.srv.AddUserGroup(ctx, "engineering", "", []string{"ada@example.com"}); err != nil {
		t.Fatal(err)
	}
	sc := e.addScript("echo hello $MAW_INPUT_WHO\n", []store.InputDecl{{Label: "Who", Name: "who", Default: "{$userWorkEmailAddress}"}})
	cfg := e.assign(server.ScriptRequest{Script: sc.ID}, "usergroup:engineering")
	e.cycle(adaState)
	e.cycle(bobState)
	byDevice := func() map[string]string {
		out := map[string]string{}
		for _, r := range e.results() {
			out[r.DeviceID] = r.Stdout
		}
		return out
	}
	if got := byDevice(); len(got) != 1 || got[ada] != "hello ada@example.com\n" {
		t.Fatalf("results %v; want ada's device only", got)
	}
	if _, err := e.srv.SetUserGroup(ctx, "engineering", []string{"bob@example.com"}, nil); err != nil {
		t.Fatal(err)
	}
	e.cycle(bobState)
	if got := byDevice(); got[bob] != "hello bob@example.com\n" {
		t.Fatalf("results %v; want bob's device once he joined", got)
	}
	r, err := e.srv.Distribute(ctx, cfg, []string{"usergroup:engineering"}, true)
	if err != nil || len(r.Devices) != 2 {
		t.Fatalf("dry run reaches %d devices, %v; want 2", len(r.Devices), err)
	}
}
