package storetest

import (
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/distribution"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// A script configuration's retries, and a result's attempt and next
// attempt, are stored and read back by every read path; none and zero
// read back as none and zero.
func testRetries(t *testing.T, newStore NewStore) {
	s := newStore(t)
	mustCreateScript(t, s, sampleScript("s1", at(0)))
	c := sampleScriptConfig("c1", "Retried", "s1", at(0), distribution.Target{Kind: distribution.Device, Value: "d1"})
	for _, n := range []int{0, protocol.MaxRetries} {
		c.Script.Retries = n
		if n == 0 {
			mustCreateConfig(t, s, c)
		} else if err := s.UpdateConfiguration(ctx(t), c); err != nil {
			t.Fatal(err)
		}
		got, err := s.Configuration(ctx(t), "c1")
		if err != nil {
			t.Fatal(err)
		}
		checkConfig(t, got, c)
		cs, err := s.ConfigurationsFor(ctx(t), distribution.Audience{DeviceID: "d1"})
		if err != nil || len(cs) != 1 {
			t.Fatalf("ConfigurationsFor = %v, %v", configIDs(cs), err)
		}
		checkConfig(t, cs[0], c)
	}

	first := protocol.Result{RunID: "r1", DeviceID: "d1", AssignmentID: "c1", AssignmentVersion: 3, ScriptID: "s1",
		Status: protocol.StatusFailed, ExitCode: 1, Attempt: 1, RetryAt: at(2 * time.Hour)}
	last := protocol.Result{RunID: "r2", DeviceID: "d1", AssignmentID: "c1", AssignmentVersion: 3, ScriptID: "s1",
		Status: protocol.StatusSucceeded, Attempt: 2}
	mustPutResult(t, s, first, at(time.Hour), true)
	mustPutResult(t, s, last, at(3*time.Hour), true)
	got := mustResults(t, s, store.ResultFilter{ConfigID: "c1"})
	if len(got) != 2 {
		t.Fatalf("%d results, want 2", len(got))
	}
	for i, want := range []protocol.Result{first, last} {
		if g := got[i]; g.Attempt != want.Attempt || !g.RetryAt.Equal(want.RetryAt) {
			t.Errorf("result %s: attempt %d, retry at %v; want %d, %v", g.RunID, g.Attempt, g.RetryAt, want.Attempt, want.RetryAt)
		}
	}
	latest, err := s.LatestResults(ctx(t), "d1", []string{"c1"})
	if err != nil {
		t.Fatal(err)
	}
	if r := latest["c1"]; r.RunID != "r2" || r.Attempt != 2 || !r.RetryAt.IsZero() {
		t.Errorf("latest result %s: attempt %d, retry at %v; want r2, 2, none", r.RunID, r.Attempt, r.RetryAt)
	}
	limited := mustResults(t, s, store.ResultFilter{Limit: 2})
	if len(limited) != 2 || !limited[0].RetryAt.Equal(first.RetryAt) {
		t.Errorf("limited listing lost the next attempt: %+v", limited)
	}
}
