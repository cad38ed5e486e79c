package e2e

import (
	"context"
	"encoding/json"
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

var triggerCaps = []string{protocol.CapSchedule, protocol.CapInventory, protocol.CapTriggers}

// lines counts the lines of a file a script appends to; 0 when absent.
func lines(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return 0
	} else if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), "\n")
}

// `mobileatwork event NAME`, run beside the daemon, has it run the
// configuration on that event within seconds, once per event; a name no
// configuration runs on is refused and records nothing.
func TestNamedEventRunsItsConfigurationOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	state := e.enroll()
	marker := filepath.Join(t.TempDir(), "ran")
	sc := e.addScript("echo ran >> "+marker+"\n", nil)
	cfg := e.assign(server.ScriptRequest{Script: sc.ID, Schedule: &schedule.Spec{Kind: schedule.Event, Event: "deploy.vpn"}}, "all")

	// A first check-in delivers it: no event yet, nothing runs.
	if err := newAgentWith(t, state, func(o *agent.Options) { o.Capabilities = triggerCaps }).Cycle(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := lines(t, marker); n != 0 {
		t.Fatalf("ran %d times before any event", n)
	}
	_, stderr, code := run(t, "mobileatwork", "event", "deploy.other", "--state-dir", state)
	oneErrorLine(t, stderr, code, "no script configuration of this device runs on this event (events it runs on: deploy.vpn)")
	if _, err := os.Stat(filepath.Join(state, "events")); err == nil {
		if ents, _ := os.ReadDir(filepath.Join(state, "events")); len(ents) > 0 {
			t.Fatalf("a refused event left %d files in the spool", len(ents))
		}
	}

	a := newAgentWith(t, state, func(o *agent.Options) { o.Capabilities, o.Interval = triggerCaps, time.Hour })
	daemon(t, a)
	for i := 1; i <= 2; i++ {
		out, stderr, code := run(t, "mobileatwork", "event", "deploy.vpn", "--json", "--state-dir", state)
		var sent struct {
			Event string `json:"event"`
		}
		if code != 0 || json.Unmarshal([]byte(out), &sent) != nil || sent.Event != "deploy.vpn" {
			t.Fatalf("event: exit %d, %q, %s", code, out, stderr)
		}
		waitFor(t, 20*time.Second, "the event's run reported", func() (bool, error) {
			return len(e.results()) >= i, nil
		})
	}
	out, _, _ := run(t, "mobileatwork", "status", "--json", "--state-dir", state)
	var st agent.Status
	if err := json.Unmarshal([]byte(out), &st); err != nil || len(st.NextRuns) != 1 {
		t.Fatalf("status: %v %s", err, out)
	}
	if nr := st.NextRuns[0]; nr.Schedule != "on event deploy.vpn" || nr.LastOccurrence.IsZero() {
		t.Errorf("status shows %+v, want the trigger and its last occurrence", nr)
	}
	a.Close() // the daemon stops: nothing more can run
	rs := e.results()
	if len(rs) != 2 || lines(t, marker) != 2 {
		t.Fatalf("%d results and %d runs for 2 events, want 2 of each", len(rs), lines(t, marker))
	}
	for _, r := range rs {
		if r.AssignmentID != cfg || r.Status != protocol.StatusSucceeded || r.Occurrence.IsZero() {
			t.Errorf("result %+v, want a success of %s naming its event's time", r.Result, cfg)
		}
	}
	if r0, r1 := rs[0].Occurrence, rs[1].Occurrence; !r1.After(r0) {
		t.Errorf("occurrences %v then %v: want one run per event", r0, r1)
	}
}

// A configuration on enrollment, added with the command line before the
// Mac enrolls, runs once at its first check-ins and is then finished; an
// agent that does not announce triggers never receives it and shows it
// in error.
func TestEnrollmentTriggerRunsOnceAtEnrollment(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	marker := filepath.Join(t.TempDir(), "ran")
	sc := e.addScript("echo enrolled >> "+marker+"\n", nil)
	out, stderr, code := run(t, "mobileatwork-server", "assign", "--data", e.data, "--script", sc.ID, "--to", "all",
		"--on", "enrollment", "--name", "Welcome")
	if code != 0 {
		t.Fatalf("assign --on enrollment: %s", stderr)
	}
	cfg := lastLine(out)
	if show, _, _ := run(t, "mobileatwork-server", "config", "show", cfg, "--data", e.data); !strings.Contains(show, "on enrollment") {
		t.Fatalf("config show does not name the trigger:\n%s", show)
	}

	state := filepath.Join(t.TempDir(), "state")
	if _, stderr, code := run(t, "mobileatwork", "enroll", "--server", e.url, "--token", e.token(1, time.Hour), "--state-dir", state); code != 0 {
		t.Fatalf("enroll: %s", stderr)
	}
	for range 2 {
		if _, stderr, code := run(t, "mobileatwork", "checkin", "--state-dir", state); code != 0 {
			t.Fatalf("checkin: %s", stderr)
		}
	}
	if n := lines(t, marker); n != 1 {
		t.Fatalf("the enrollment script ran %d times, want once", n)
	}
	if rs := e.results(); len(rs) != 1 || rs[0].Status != protocol.StatusSucceeded {
		t.Fatalf("results %+v, want one success", rs)
	}

	// An agent without triggers: withheld, in error.
	old := e.enroll()
	if err := newAgent(t, old).Cycle(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := lines(t, marker); n != 1 {
		t.Fatalf("an agent without triggers ran it (%d runs)", n)
	}
	id, err := agent.LoadIdentity(old)
	if err != nil {
		t.Fatal(err)
	}
	if st := e.statusOf(id.DeviceID, cfg); st.Status != store.StatusError || st.Detail != server.DetailNoTriggers {
		t.Errorf("on an agent without triggers: %s %q, want error %q", st.Status, st.Detail, server.DetailNoTriggers)
	}
}
