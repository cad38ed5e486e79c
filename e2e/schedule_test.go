package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/mobileatwork/mobileatwork/agent"
	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/protocol/schedule"
	"github.com/mobileatwork/mobileatwork/server"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// clock is a settable fake clock shared by server and agent.
type clock struct{ *clockwork.FakeClock }

func newClock(t time.Time) *clock { return &clock{clockwork.NewFakeClockAt(t)} }

// Set moves the clock to t, forward or back.
func (c *clock) Set(t time.Time) { c.Advance(t.Sub(c.Now())) }

// cycleAt returns a function that sets the clock and runs one check-in
// cycle in a fresh agent, as a restarted process would.
func cycleAt(t *testing.T, state string, c *clock, loc *time.Location) func(time.Time) {
	return func(at time.Time) {
		t.Helper()
		c.Set(at)
		if err := scheduledAgent(t, state, c, loc, "1.80.0", []string{protocol.CapSchedule}).Cycle(context.Background()); err != nil {
			t.Fatalf("cycle at %s: %v", at, err)
		}
	}
}

func scheduledAgent(t *testing.T, state string, c *clock, loc *time.Location, version string, caps []string) *agent.Agent {
	t.Helper()
	return newAgentWith(t, state, func(o *agent.Options) {
		o.Version, o.Capabilities, o.Clock, o.Location = version, caps, c, loc
	})
}

func (e *env) assignScheduled(body string, spec schedule.Spec) string {
	e.t.Helper()
	sc := e.addScript(body, nil)
	return e.assign(server.ScriptRequest{Script: sc.ID, Schedule: &spec}, "all")
}

func occurrences(rs []store.StoredResult) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Occurrence.UTC().Format(time.RFC3339))
	}
	return out
}

func TestDailyScheduleAcrossDSTRestartAndDowntime(t *testing.T) {
	t.Parallel()
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skip("no zoneinfo:", err)
	}
	e := newEnv(t)
	c := newClock(time.Date(2027, 3, 26, 8, 0, 0, 0, paris)) // Friday; DST starts Sunday 28 March
	state := e.enroll()                                      // certificates are issued at the real time: TLS checks them against it
	e.srv.Now = c.Now
	counter := filepath.Join(t.TempDir(), "count")
	spec, err := schedule.Parse(schedule.Daily, "09:00", nil, schedule.Local, "2027-03-26", "2027-04-02")
	if err != nil {
		t.Fatal(err)
	}
	e.assignScheduled("echo run >> "+counter+"\n", spec)
	cycle := cycleAt(t, state, c, paris)
	day := func(d, h, m int) time.Time { return time.Date(2027, 3, d, h, m, 0, 0, paris) }

	cycle(day(26, 8, 0)) // received before the first occurrence: nothing due
	if n := len(e.results()); n != 0 {
		t.Fatalf("%d runs before 09:00", n)
	}
	cycle(day(26, 9, 0))
	cycle(day(26, 9, 15)) // same occurrence: not again
	cycle(day(26, 23, 0)) // a restarted agent (new process each cycle) does not rerun it either
	if got := occurrences(e.results()); strings.Join(got, ",") != "2027-03-26T08:00:00Z" {
		t.Fatalf("occurrences = %v, want the 26th at 09:00 CET once", got)
	}
	// Down from the 26th evening to Monday noon: 27th, 28th (DST day), 29th were
	// missed. Only the latest runs, once — not a burst of three.
	cycle(day(29, 12, 0))
	cycle(day(29, 12, 30))
	got := occurrences(e.results())
	if strings.Join(got, ",") != "2027-03-26T08:00:00Z,2027-03-29T07:00:00Z" {
		t.Fatalf("occurrences = %v, want 26th 09:00 CET and 29th 09:00 CEST only", got)
	}
	// Nothing after the end date (inclusive 2 April).
	cycle(time.Date(2027, 4, 2, 9, 30, 0, 0, paris))
	cycle(time.Date(2027, 4, 5, 9, 30, 0, 0, paris))
	got = occurrences(e.results())
	if len(got) != 3 || got[2] != "2027-04-02T07:00:00Z" {
		t.Fatalf("occurrences = %v, want a last run on 2 April and none after the end", got)
	}
	b, _ := os.ReadFile(counter)
	if n := strings.Count(string(b), "run"); n != 3 {
		t.Fatalf("script ran %d times, want 3", n)
	}
	// status: the assignment is finished.
	st := scheduledAgent(t, state, c, paris, "1.80.0", []string{protocol.CapSchedule}).Status()
	if len(st.NextRuns) != 1 || st.NextRuns[0].State != "finished" {
		t.Fatalf("status next runs = %+v", st.NextRuns)
	}
}

func TestOldAgentRunsRecurringScriptOnceAndUpgradeRedistributes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := newClock(time.Date(2027, 1, 4, 10, 0, 0, 0, time.UTC))
	state := e.enroll() // certificates are issued at the real time: TLS checks them against it
	e.srv.Now = c.Now
	spec, _ := schedule.Parse(schedule.Weekly, "18:15", []string{"mon", "fri"}, schedule.UTC, "", "")
	e.assignScheduled("true\n", spec)

	old := func() *agent.Agent { return scheduledAgent(t, state, c, time.UTC, "1.60.0", nil) }
	p, err := old().Checkin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if p.Assignments[0].Schedule.Kind != schedule.Once {
		t.Fatalf("an agent without the schedule capability got %+v, want once", p.Assignments[0].Schedule)
	}
	for i := 0; i < 3; i++ {
		c.Set(c.Now().Add(24 * time.Hour))
		if err := old().Cycle(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if rs := e.results(); len(rs) != 1 || !rs[0].Occurrence.IsZero() {
		t.Fatalf("old agent: %d results, want one run-once result", len(rs))
	}

	// The agent is upgraded: it reports a new version and the schedule
	// capability; the server redistributes everything and the recurring
	// schedule takes over from the next occurrence, not a missed one.
	c.Set(time.Date(2027, 1, 11, 12, 0, 0, 0, time.UTC)) // Monday noon
	up := func() *agent.Agent {
		return scheduledAgent(t, state, c, time.UTC, "1.80.0", []string{protocol.CapSchedule})
	}
	p, err = up().Checkin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !p.Resend || p.Assignments[0].Schedule.Kind != schedule.Weekly {
		t.Fatalf("upgrade: resend=%v schedule=%+v, want a redistributed weekly schedule", p.Resend, p.Assignments[0].Schedule)
	}
	if err := up().Cycle(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(e.results()); n != 1 {
		t.Fatalf("%d results right after the upgrade, want still 1", n)
	}
	c.Set(time.Date(2027, 1, 11, 18, 16, 0, 0, time.UTC))
	if err := up().Cycle(context.Background()); err != nil {
		t.Fatal(err)
	}
	rs := e.results()
	if len(rs) != 2 || !rs[1].Occurrence.Equal(time.Date(2027, 1, 11, 18, 15, 0, 0, time.UTC)) {
		t.Fatalf("results after the first weekly occurrence: %v", occurrences(rs))
	}
	if p, _ := up().Checkin(context.Background()); p.Resend {
		t.Fatal("configuration redistributed again without a version change")
	}
}

// An occurrence run while the clock was a year ahead does not silence the
// schedule once the clock is corrected: the next occurrence runs, once.
func TestScheduleRecoversFromAClockThatWasAhead(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ahead := time.Date(2028, 5, 3, 9, 5, 0, 0, time.UTC)
	c := newClock(ahead.Add(-2 * time.Hour))
	state := e.enroll()
	e.srv.Now = c.Now
	counter := filepath.Join(t.TempDir(), "count")
	spec, err := schedule.Parse(schedule.Daily, "09:00", nil, schedule.UTC, "", "")
	if err != nil {
		t.Fatal(err)
	}
	e.assignScheduled("echo run >> "+counter+"\n", spec)
	cycle := cycleAt(t, state, c, time.UTC)
	runs := func() int { b, _ := os.ReadFile(counter); return strings.Count(string(b), "run") }
	cycle(ahead.Add(-2 * time.Hour)) // received while the clock is a year ahead
	cycle(ahead)                     // runs the (future) 3 May 2028 occurrence
	if n := runs(); n != 1 {
		t.Fatalf("%d runs while ahead, want 1", n)
	}
	// The clock is put right: a year earlier.
	cycle(time.Date(2027, 5, 3, 8, 0, 0, 0, time.UTC))
	cycle(time.Date(2027, 5, 3, 9, 5, 0, 0, time.UTC))
	if n := runs(); n != 2 {
		t.Fatalf("%d runs after the correction, want the 09:00 occurrence to run (2)", n)
	}
	cycle(time.Date(2027, 5, 3, 9, 30, 0, 0, time.UTC))
	cycle(time.Date(2027, 5, 4, 9, 5, 0, 0, time.UTC))
	if n := runs(); n != 3 {
		t.Fatalf("%d runs a day later, want 3 (once a day)", n)
	}
}
