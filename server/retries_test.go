package server

import (
	"errors"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/store"
)

func TestRetryDetails(t *testing.T) {
	next := time.Date(2027, 1, 4, 9, 1, 0, 0, time.UTC)
	tests := []struct {
		r      protocol.Result
		detail string
	}{
		{protocol.Result{Status: protocol.StatusFailed, ExitCode: 1, Attempt: 1, RetryAt: next}, "retrying: attempt 1 failed (exit 1); next at 2027-01-04T09:01:00Z"},
		{protocol.Result{Status: protocol.StatusTimedOut, DurationMS: 60000, Attempt: 2, RetryAt: next}, "retrying: attempt 2 timed out (stopped after 1m0s); next at 2027-01-04T09:01:00Z"},
		{protocol.Result{Status: protocol.StatusError, Error: "no interpreter", Attempt: 3, RetryAt: next}, "retrying: attempt 3 ended in error (no interpreter); next at 2027-01-04T09:01:00Z"},
		{protocol.Result{Status: protocol.StatusSucceeded, DurationMS: 1500, Attempt: 3}, "exit 0 in 1.5s (attempt 3)"},
		{protocol.Result{Status: protocol.StatusFailed, ExitCode: 2, Attempt: 1}, "exit 2"},
		{protocol.Result{Status: protocol.StatusFailed, ExitCode: 2}, "exit 2"},
	}
	for _, tt := range tests {
		if st, d := resultStatus(tt.r); st != tt.r.Status || d != tt.detail {
			t.Errorf("resultStatus(%+v) = %s %q, want %s %q", tt.r, st, d, tt.r.Status, tt.detail)
		}
	}
}

// --retries takes 0 to 10 on adding and editing; anything else is refused
// and changes nothing. A new number is a new version, the same one not.
func TestRetriesFlag(t *testing.T) {
	s := newTenant(t)
	ctx := t.Context()
	sc := addScript(t, s, "flaky", "exit 1\n")
	for _, n := range []int{-1, protocol.MaxRetries + 1} {
		if _, err := s.AddScriptConfig(ctx, "bad", "", ScriptRequest{Script: sc.ID, Retries: &n}); !errors.Is(err, ErrInvalid) {
			t.Errorf("--retries %d: %v, want refused", n, err)
		}
	}
	if cs, _ := s.Store.Configurations(ctx); len(cs) != 1 {
		t.Fatalf("%d configurations after refusals, want the default only", len(cs))
	}
	c, err := s.AddScriptConfig(ctx, "flaky", "", ScriptRequest{Script: sc.ID})
	if err != nil || c.Script.Retries != 0 {
		t.Fatalf("added %+v, %v; want no retries by default", c.Script, err)
	}
	steps := []struct {
		retries, version int
		fails            bool
	}{
		{3, 2, false}, {3, 2, false}, {protocol.MaxRetries, 3, false}, {protocol.MaxRetries + 1, 3, true}, {0, 4, false},
	}
	for _, st := range steps {
		n := st.retries
		got, err := s.UpdateConfiguration(ctx, c.ID, ConfigUpdate{Script: &ScriptRequest{Retries: &n}})
		if st.fails != (err != nil) {
			t.Fatalf("--retries %d: %v", n, err)
		}
		if got, err = s.Store.Configuration(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		if got.Version != st.version || (!st.fails && got.Script.Retries != n) {
			t.Fatalf("after --retries %d: version %d with %d retries, want version %d", n, got.Version, got.Script.Retries, st.version)
		}
	}
}

// run --wait reports each attempt once as running and once with its
// result; the stale running status of an attempt whose result arrived is
// not news, the next attempt's is.
func TestWatchAttempts(t *testing.T) {
	t0 := time.Date(2027, 1, 4, 9, 0, 0, 0, time.UTC)
	t1 := t0.Add(time.Second)
	var w Attempts
	steps := []struct {
		name string
		news func() bool
		want bool
	}{
		{"attempt 1 runs", func() bool { return w.StartedNow("d1", store.StatusRunning, t0) }, true},
		{"still running", func() bool { return w.StartedNow("d1", store.StatusRunning, t0) }, false},
		{"attempt 1 fails, a retry follows", func() bool { return w.Ended("r1", "d1", t1.Add(time.Minute), t1) }, true},
		{"the same result read again", func() bool { return w.Ended("r1", "d1", t1.Add(time.Minute), t1) }, false},
		{"attempt 1's stale status", func() bool { return w.StartedNow("d1", store.StatusRunning, t0) }, false},
		{"attempt 2 runs", func() bool { return w.StartedNow("d1", store.StatusRunning, t0.Add(time.Minute)) }, true},
		{"still running", func() bool { return w.StartedNow("d1", store.StatusRunning, t0.Add(time.Minute)) }, false},
		{"attempt 2's final result", func() bool { return w.Ended("r2", "d1", time.Time{}, t0.Add(2*time.Minute)) }, true},
	}
	for _, st := range steps {
		if got := st.news(); got != st.want {
			t.Fatalf("%s: news = %v, want %v", st.name, got, st.want)
		}
	}
}
