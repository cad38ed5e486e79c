package server

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/mobileatwork/mobileatwork/internal/routines"
	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/store"
)

func storedRunIDs(t *testing.T, st store.ResultStore) []string {
	t.Helper()
	rs, err := st.Results(t.Context(), store.ResultFilter{})
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{}
	for _, r := range rs {
		ids = append(ids, r.RunID)
	}
	return ids
}

func TestResultPurgeRun(t *testing.T) {
	s, _ := newTestServer(t)
	// Five results past a 48 h retention at t0, purged in batches of two,
	// and two that pass it one and three hours later.
	ages := map[string]time.Duration{"old0": 53 * time.Hour, "old1": 52 * time.Hour, "old2": 51 * time.Hour,
		"old3": 50 * time.Hour, "old4": 49 * time.Hour, "soon": 47*time.Hour + 30*time.Minute, "later": 45*time.Hour + 30*time.Minute, "new": time.Hour}
	for id, age := range ages {
		r := protocol.Result{RunID: id, DeviceID: "d1", AssignmentID: "c1", ScriptID: "s1", Status: protocol.StatusSucceeded}
		if _, err := s.Store.PutResult(t.Context(), r, t0.Add(-age)); err != nil {
			t.Fatal(err)
		}
	}
	clock := clockwork.NewFakeClockAt(t0)
	p := &ResultPurge{Store: s.Store, Keep: 48 * time.Hour, Batch: 2, Clock: clock}
	g := routines.New(t.Context())
	defer g.Close()
	g.Go(p.Run)

	steps := []struct {
		advance time.Duration
		want    []string
	}{
		{0, []string{"soon", "later", "new"}}, // at start, every batch until one is not full
		{time.Hour, []string{"later", "new"}}, // the next hour
		{time.Hour, []string{"later", "new"}}, // nothing passed the cutoff
		{time.Hour, []string{"new"}},          // and the one after
		{30 * time.Minute, []string{"new"}},   // not yet an hour: no purge ran
		{40 * time.Hour, []string{"new"}},     // one purge, however far the clock jumped
		{4 * time.Hour, []string{}},           // the newest passes the cutoff too
	}
	for i, st := range steps {
		clock.Advance(st.advance)
		if err := clock.BlockUntilContext(t.Context(), 1); err != nil {
			t.Fatal(err)
		}
		if got := storedRunIDs(t, s.Store); !slices.Equal(got, st.want) {
			t.Fatalf("step %d (+%s): results %v, want %v", i, st.advance, got, st.want)
		}
	}
	g.Close() // Run returns once its context is cancelled
}

func TestResultPurgeRefusesNoRetention(t *testing.T) {
	s, _ := newTestServer(t)
	r := protocol.Result{RunID: "r1", DeviceID: "d1", AssignmentID: "c1", ScriptID: "s1", Status: protocol.StatusSucceeded}
	if _, err := s.Store.PutResult(t.Context(), r, t0.Add(-1000*time.Hour)); err != nil {
		t.Fatal(err)
	}
	for _, keep := range []time.Duration{0, -time.Hour} {
		t.Run(fmt.Sprint(keep), func(t *testing.T) {
			p := &ResultPurge{Store: s.Store, Keep: keep, Clock: clockwork.NewFakeClockAt(t0)}
			if _, err := p.Once(t.Context()); err == nil {
				t.Fatal("Once with no retention succeeded, want an error")
			}
			if got := storedRunIDs(t, s.Store); !slices.Equal(got, []string{"r1"}) {
				t.Fatalf("a refused purge changed the results: %v", got)
			}
		})
	}
}
