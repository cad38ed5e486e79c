package agent

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/mobileatwork/mobileatwork/agent/ledger"
	"github.com/mobileatwork/mobileatwork/agent/trigger"
	"github.com/mobileatwork/mobileatwork/executor"
	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/protocol/schedule"
	"github.com/mobileatwork/mobileatwork/server"
)

// machine is a fake console and network: who is logged in, which
// addresses the interfaces have.
type machine struct {
	mu    sync.Mutex
	user  string
	addrs []string
	moves int // network moves so far, for fresh addresses
}

func (m *machine) consoleUser() (executor.User, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.user == "" {
		return executor.User{}, executor.ErrNoConsoleUser
	}
	return executor.User{Name: m.user, UID: 501, GID: 20}, nil
}

func (m *machine) interfaceAddrs() ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.addrs), nil
}

func (m *machine) set(user string, addrs ...string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.user, m.addrs = user, addrs
}

var triggerCaps = []string{protocol.CapSchedule, protocol.CapTriggers}

// triggeredAgent is the device's agent on a fake clock, console and
// network, and the payload of a check-in that delivers one script
// configuration on spec.
func triggeredAgent(t *testing.T, e *testEnv, clock *clockwork.FakeClock, m *machine, fx *fakeExec, spec schedule.Spec) (*Agent, *protocol.CheckinPayload) {
	t.Helper()
	ctx := context.Background()
	sc, err := e.srv.AddScript(ctx, "on "+spec.Kind, "", []byte("#!/bin/sh\ntrue\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.srv.Assign(ctx, "", "", server.ScriptRequest{Script: sc.ID, Schedule: &spec}, []string{"all"}); err != nil {
		t.Fatal(err)
	}
	a := restarted(t, e, clock, m, fx)
	p, err := a.Checkin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Assignments) != 1 || p.Assignments[0].Schedule.Kind != spec.Kind {
		t.Fatalf("payload carries %+v, want the %s configuration", p.Assignments, spec.Kind)
	}
	return a, p
}

// restarted is a new agent process on the same state.
func restarted(t *testing.T, e *testEnv, clock *clockwork.FakeClock, m *machine, fx *fakeExec) *Agent {
	t.Helper()
	a := e.agent(t, Options{Clock: clock, ConsoleUser: m.consoleUser, InterfaceAddrs: m.interfaceAddrs,
		Exec: fx.run, Capabilities: triggerCaps})
	t.Cleanup(a.Close)
	return a
}

// Each trigger runs its configuration once per occurrence; occurrences
// that come while it runs coalesce into one more run; a restart is
// neither a login nor a network change.
func TestTriggersRunOncePerOccurrence(t *testing.T) {
	tests := []struct {
		spec  schedule.Spec
		occur func(a *Agent, m *machine, clock *clockwork.FakeClock) // one occurrence, observed
	}{
		{spec: schedule.Spec{Kind: schedule.Login}, occur: func(a *Agent, m *machine, clock *clockwork.FakeClock) {
			m.set("", "10.0.0.2/24")
			a.observeTriggers(clock.Now())
			clock.Advance(time.Second)
			m.set("ada", "10.0.0.2/24")
			a.observeTriggers(clock.Now())
		}},
		{spec: schedule.Spec{Kind: schedule.Network}, occur: func(a *Agent, m *machine, clock *clockwork.FakeClock) {
			m.mu.Lock()
			m.moves++
			addr := fmt.Sprintf("192.168.%d.2/24", m.moves)
			m.mu.Unlock()
			m.set("ada", "10.0.0.2/24", addr)
			a.observeTriggers(clock.Now())
			clock.Advance(networkDebounce)
			a.observeTriggers(clock.Now())
		}},
		{spec: schedule.Spec{Kind: schedule.Event, Event: "vpn-up"}, occur: func(a *Agent, m *machine, clock *clockwork.FakeClock) {
			if err := SendEvent(a.o.StateDir, "vpn-up", clock.Now()); err != nil {
				panic(err)
			}
			a.observeTriggers(clock.Now()) // the daemon's next look reads the spool
		}},
	}
	for _, tt := range tests {
		t.Run(tt.spec.Kind, func(t *testing.T) {
			e := newTestEnv(t)
			clock := clockwork.NewFakeClockAt(time.Now())
			m := &machine{user: "ada", addrs: []string{"10.0.0.2/24"}}
			fx := &fakeExec{status: executor.Succeeded}
			a, p := triggeredAgent(t, e, clock, m, fx, tt.spec)
			ctx := context.Background()
			runs := func(want int32, step string) {
				t.Helper()
				if err := a.RunDue(ctx, p); err != nil {
					t.Fatalf("%s: %v", step, err)
				}
				if got := fx.runs.Load(); got != want {
					t.Fatalf("%s: %d runs, want %d", step, got, want)
				}
			}
			if a.observeTriggers(clock.Now()) {
				t.Fatal("the first look fired a trigger")
			}
			runs(0, "before any occurrence")
			if st := a.nextRuns(p, clock.Now())[0]; st.State != "waiting" || st.Schedule != tt.spec.String() {
				t.Errorf("status before an occurrence: %+v, want waiting on %q", st, tt.spec.String())
			}

			clock.Advance(time.Minute)
			tt.occur(a, m, clock)
			if st := a.nextRuns(p, clock.Now())[0]; st.State != "due" || st.LastOccurrence.IsZero() {
				t.Errorf("status after an occurrence: %+v, want due with its occurrence", st)
			}
			runs(1, "after an occurrence")
			runs(1, "the same occurrence again")

			// Two more occurrences while the script runs: one more run.
			inner := fx.run
			a.o.Exec = func(ctx context.Context, req executor.Request) executor.Result {
				clock.Advance(time.Minute)
				tt.occur(a, m, clock)
				clock.Advance(time.Minute)
				tt.occur(a, m, clock)
				return inner(ctx, req)
			}
			clock.Advance(time.Minute)
			tt.occur(a, m, clock)
			runs(2, "an occurrence")
			a.o.Exec = fx.run
			runs(3, "the occurrences that came while it ran")
			runs(3, "nothing new")
			if st := a.nextRuns(p, clock.Now())[0]; st.State != "waiting" {
				t.Errorf("status once handled: %+v, want waiting", st)
			}

			// A restart with the same user and addresses fires nothing.
			a.Close()
			a = restarted(t, e, clock, m, fx)
			clock.Advance(time.Minute)
			if a.observeTriggers(clock.Now()) {
				t.Error("a restart fired a trigger")
			}
			clock.Advance(networkDebounce)
			if a.observeTriggers(clock.Now()) {
				t.Error("a restart fired a trigger after the debounce")
			}
			runs(3, "after a restart")

			rs := pending(t, a)
			if len(rs) != 3 {
				t.Fatalf("%d results, want 3", len(rs))
			}
			for _, r := range rs {
				if r.Occurrence.IsZero() || r.Status != protocol.StatusSucceeded {
					t.Errorf("result %+v: want succeeded, naming its occurrence", r)
				}
			}
		})
	}
}

// An agent killed between the start of a triggered run and its result
// reports the run as interrupted after its restart and does not run that
// occurrence again.
func TestTriggeredRunInterruptedIsNotRerun(t *testing.T) {
	e := newTestEnv(t)
	clock := clockwork.NewFakeClockAt(time.Now())
	m := &machine{user: "ada"}
	fx := &fakeExec{status: executor.Succeeded}
	spec := schedule.Spec{Kind: schedule.Event, Event: "deploy"}
	a, p := triggeredAgent(t, e, clock, m, fx, spec)
	if err := a.RunDue(context.Background(), p); err != nil { // received: nothing owed
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	if err := SendEvent(e.state, "deploy", clock.Now()); err != nil {
		t.Fatal(err)
	}
	a.consumeEvents(clock.Now())
	asg := p.Assignments[0]
	en, ok := a.ledger.Get(asg.ID)
	if !ok {
		t.Fatal("no ledger entry")
	}
	occ, owed := a.occurrence(asg, en)
	if !owed {
		t.Fatal("the event is not owed")
	}
	// What runOne leaves on disk before the script starts, and no more.
	en.Started = &ledger.Started{RunID: "run_killed", Occurrence: occ, At: clock.Now().UTC()}
	if err := a.ledger.Put(en); err != nil {
		t.Fatal(err)
	}
	a.Close()

	a = restarted(t, e, clock, m, fx)
	if err := a.recoverInterrupted(); err != nil {
		t.Fatal(err)
	}
	if err := a.RunDue(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if n := fx.runs.Load(); n != 0 {
		t.Fatalf("the interrupted occurrence ran %d times after the restart", n)
	}
	rs := pending(t, a)
	if len(rs) != 1 || rs[0].RunID != "run_killed" || rs[0].Status != protocol.StatusError ||
		!strings.Contains(rs[0].Error, "interrupted") || !rs[0].Occurrence.Equal(occ) {
		t.Fatalf("results %+v, want the interrupted run reported with its occurrence", rs)
	}
}

// An enrollment script runs once when the configuration reaches the
// device within the window after enrollment, and never when it arrives
// later.
func TestEnrollmentTriggerWindow(t *testing.T) {
	tests := []struct {
		name     string
		received time.Duration // after the check-in that delivered it
		wantRuns int32
		state    string
	}{
		{name: "right after enrollment", received: 0, wantRuns: 1, state: "done"},
		{name: "long after enrollment", received: EnrollmentWindow + time.Minute, wantRuns: 0, state: "finished"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t)
			clock := clockwork.NewFakeClockAt(time.Now())
			m := &machine{}
			fx := &fakeExec{status: executor.Succeeded}
			a, p := triggeredAgent(t, e, clock, m, fx, schedule.Spec{Kind: schedule.Enrollment})
			clock.Advance(tt.received)
			for i := range 2 {
				if err := a.RunDue(context.Background(), p); err != nil {
					t.Fatal(err)
				}
				if got := fx.runs.Load(); got != tt.wantRuns {
					t.Fatalf("RunDue %d: %d runs, want %d", i, got, tt.wantRuns)
				}
			}
			st := a.nextRuns(p, clock.Now())[0]
			if st.State != tt.state || !st.LastOccurrence.Equal(a.id.EnrolledAt) {
				t.Errorf("status %+v, want %s with the enrollment as last occurrence", st, tt.state)
			}
		})
	}
}

// The daemon's watch looks on its clock and wakes the daemon at an
// occurrence; one that comes while the receivers are busy wakes it again
// once they are free.
func TestWatchTriggersWakes(t *testing.T) {
	e := newTestEnv(t)
	clock := clockwork.NewFakeClockAt(time.Now())
	m := &machine{}
	a := restarted(t, e, clock, m, &fakeExec{})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); a.watchTriggers(ctx) }()
	if err := clock.BlockUntilContext(ctx, 1); err != nil { // the first look done
		t.Fatal(err)
	}
	select {
	case <-a.again:
		t.Fatal("the first look woke the daemon")
	default:
	}
	m.set("ada")
	clock.Advance(triggerPoll)
	<-a.again // the login wakes it
	cancel()
	<-done

	gen := a.firedGen.Load()
	a.refireSince(gen)
	select {
	case <-a.again:
		t.Fatal("woken again with nothing new")
	default:
	}
	a.fire()
	<-a.again
	a.refireSince(gen) // fired while busy
	select {
	case <-a.again:
	default:
		t.Fatal("an occurrence while busy did not wake the daemon again")
	}
	if got := a.triggers.Last(trigger.Key(schedule.Spec{Kind: schedule.Login})); got.IsZero() {
		t.Error("the login is not recorded")
	}
}

// A trigger the payload carries malformed is never due, whatever the
// record holds under its name.
func TestMalformedTriggerNeverDue(t *testing.T) {
	e := newTestEnv(t)
	clock := clockwork.NewFakeClockAt(time.Now())
	a := restarted(t, e, clock, &machine{}, &fakeExec{})
	bad := protocol.Assignment{ID: "cfg_bad", Version: 1, Schedule: schedule.Spec{Kind: schedule.Event, Event: "a b"}}
	if _, err := a.triggers.Event("a b", clock.Now()); err != nil {
		t.Fatal(err)
	}
	if _, ok := a.dueTriggered(bad, ledger.Entry{ReceivedAt: clock.Now().Add(-time.Hour)}); ok {
		t.Fatal("a malformed event trigger is due")
	}
}
