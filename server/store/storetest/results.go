package storetest

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// sampleResult sets every field of protocol.Result; the round-trip test
// checks that, so a field added to the protocol fails here until the sample
// and every backend store it.
func sampleResult(runID, device, script string) protocol.Result {
	return protocol.Result{
		RunID:             runID,
		DeviceID:          device,
		AssignmentID:      "a-" + script,
		AssignmentVersion: 2,
		ScriptID:          script,
		ScriptSHA256:      "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
		Waiting:           protocol.WaitingConsoleUser,
		Occurrence:        at(24 * time.Hour),
		Status:            protocol.StatusTimedOut,
		ExitCode:          -1,
		StartedAt:         at(24*time.Hour + time.Second),
		FinishedAt:        at(24*time.Hour + 61*time.Second),
		DurationMS:        60_000,
		Stdout:            "héllo\n\x00tail",
		Stderr:            "killed after 60s",
		StdoutBytes:       5000,
		StderrBytes:       16,
		Truncated:         true,
		InvalidUTF8:       true,
		Error:             "time limit reached",
		Attempt:           2,
		RetryAt:           at(25 * time.Hour),
	}
}

func normResult(r store.StoredResult) store.StoredResult {
	r.Occurrence, r.StartedAt, r.FinishedAt, r.ReceivedAt = utc(r.Occurrence), utc(r.StartedAt), utc(r.FinishedAt), utc(r.ReceivedAt)
	r.RetryAt = utc(r.RetryAt)
	return r
}

func mustPutResult(t *testing.T, s store.AllStorage, r protocol.Result, received time.Time, wantNew bool) {
	t.Helper()
	isNew, err := s.PutResult(ctx(t), r, received)
	if err != nil {
		t.Fatalf("PutResult %s: %v", r.RunID, err)
	}
	if isNew != wantNew {
		t.Fatalf("PutResult %s reported new = %v, want %v", r.RunID, isNew, wantNew)
	}
}

func mustResults(t *testing.T, s store.AllStorage, f store.ResultFilter) []store.StoredResult {
	t.Helper()
	got, err := s.Results(ctx(t), f)
	if err != nil {
		t.Fatalf("Results(%+v): %v", f, err)
	}
	return got
}

func runIDs(rs []store.StoredResult) []string {
	var ids []string
	for _, r := range rs {
		ids = append(ids, r.RunID)
	}
	return ids
}

func testResults(t *testing.T, newStore NewStore) {
	t.Run("round trip", func(t *testing.T) {
		sample := sampleResult("r1", "d1", "s1")
		v := reflect.ValueOf(sample)
		for i := range v.NumField() {
			if v.Field(i).IsZero() {
				t.Fatalf("the sample result leaves %s zero: set it so the round trip covers it", v.Type().Field(i).Name)
			}
		}
		once := sampleResult("r2", "d1", "s1")
		once.Occurrence = time.Time{} // a run of a once assignment
		once.Status, once.ExitCode, once.Truncated, once.InvalidUTF8, once.Error = protocol.StatusSucceeded, 0, false, false, ""
		rejected := protocol.Result{RunID: "r3", DeviceID: "d1", AssignmentID: "a1", ScriptID: "s1", Status: protocol.StatusRejected, Error: "bad signature"}

		for _, r := range []protocol.Result{sample, once, rejected} {
			t.Run(r.RunID, func(t *testing.T) {
				s := newStore(t)
				mustPutResult(t, s, r, at(48*time.Hour), true)
				got := mustResults(t, s, store.ResultFilter{})
				want := []store.StoredResult{normResult(store.StoredResult{Result: r, ReceivedAt: at(48 * time.Hour)})}
				if len(got) != 1 || !reflect.DeepEqual(normResult(got[0]), want[0]) {
					t.Fatalf("Results =\n %+v\nwant\n %+v", got, want)
				}
			})
		}
	})

	t.Run("idempotent by run id", func(t *testing.T) {
		s := newStore(t)
		first := sampleResult("r1", "d1", "s1")
		mustPutResult(t, s, first, at(time.Hour), true)
		resent := first
		resent.Stdout = "a different body must not replace the first delivery"
		mustPutResult(t, s, resent, at(2*time.Hour), false)
		mustPutResult(t, s, first, at(3*time.Hour), false)
		got := mustResults(t, s, store.ResultFilter{})
		if len(got) != 1 {
			t.Fatalf("stored %d results for one run id, want 1", len(got))
		}
		if got[0].Stdout != first.Stdout || !got[0].ReceivedAt.Equal(at(time.Hour)) {
			t.Errorf("stored {Stdout:%q ReceivedAt:%v}, want the first delivery {%q %v}", got[0].Stdout, got[0].ReceivedAt, first.Stdout, at(time.Hour))
		}
	})

	t.Run("filters and order", func(t *testing.T) {
		s := newStore(t)
		// Stored out of order of reception; r5 and r6 arrive at the same
		// instant and must keep the order they were stored in.
		puts := []struct {
			r        protocol.Result
			received time.Time
		}{
			{sampleResult("r3", "d1", "s2"), at(3 * time.Hour)},
			{sampleResult("r1", "d1", "s1"), at(time.Hour)},
			{sampleResult("r4", "d2", "s1"), at(4 * time.Hour)},
			{sampleResult("r2", "d2", "s2"), at(2 * time.Hour)},
			{sampleResult("r6", "d1", "s1"), at(5 * time.Hour)},
			{sampleResult("r5", "d2", "s1"), at(5 * time.Hour)},
			{sampleResult("r0", "d3", "s3"), at(time.Hour - tick)},
		}
		puts[3].r.Status = protocol.StatusFailed
		for _, p := range puts {
			mustPutResult(t, s, p.r, p.received, true)
		}
		tests := []struct {
			name   string
			filter store.ResultFilter
			want   []string
		}{
			{"all", store.ResultFilter{}, []string{"r0", "r1", "r2", "r3", "r4", "r6", "r5"}},
			{"device", store.ResultFilter{DeviceID: "d1"}, []string{"r1", "r3", "r6"}},
			{"script", store.ResultFilter{ScriptID: "s1"}, []string{"r1", "r4", "r6", "r5"}},
			{"device and script", store.ResultFilter{DeviceID: "d2", ScriptID: "s1"}, []string{"r4", "r5"}},
			{"unknown device", store.ResultFilter{DeviceID: "d9"}, nil},
			{"configuration", store.ResultFilter{ConfigID: "a-s2"}, []string{"r2", "r3"}},
			{"status", store.ResultFilter{Status: protocol.StatusFailed}, []string{"r2"}},
			{"since, inclusive", store.ResultFilter{Since: at(4 * time.Hour)}, []string{"r4", "r6", "r5"}},
			{"until, inclusive", store.ResultFilter{Until: at(3 * time.Hour)}, []string{"r0", "r1", "r2", "r3"}},
			{"until and since", store.ResultFilter{Since: at(2 * time.Hour), Until: at(4 * time.Hour)}, []string{"r2", "r3", "r4"}},
			{"until keeps an instant whole", store.ResultFilter{Until: at(5 * time.Hour), Limit: 2}, []string{"r6", "r5"}},
			{"limit keeps the newest until", store.ResultFilter{Until: at(4 * time.Hour), Limit: 2}, []string{"r3", "r4"}},
			{"limit keeps the newest", store.ResultFilter{Limit: 2}, []string{"r6", "r5"}},
			{"limit with a filter", store.ResultFilter{DeviceID: "d1", Limit: 2}, []string{"r3", "r6"}},
			{"limit larger than the rows", store.ResultFilter{ScriptID: "s2", Limit: 10}, []string{"r2", "r3"}},
			{"first keeps the oldest", store.ResultFilter{First: 2}, []string{"r0", "r1"}},
			{"first keeps ties in stored order", store.ResultFilter{Since: at(4 * time.Hour), First: 2}, []string{"r4", "r6"}},
			{"first with a filter", store.ResultFilter{DeviceID: "d2", First: 2}, []string{"r2", "r4"}},
			{"first larger than the rows", store.ResultFilter{ScriptID: "s2", First: 10}, []string{"r2", "r3"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if got := runIDs(mustResults(t, s, tt.filter)); !slices.Equal(got, tt.want) {
					t.Fatalf("Results(%+v) = %v, want %v", tt.filter, got, tt.want)
				}
				var each []string
				if err := s.EachResult(ctx(t), tt.filter, func(r store.StoredResult) error {
					each = append(each, r.RunID)
					return nil
				}); err != nil {
					t.Fatalf("EachResult(%+v): %v", tt.filter, err)
				}
				if !slices.Equal(each, tt.want) {
					t.Fatalf("EachResult(%+v) = %v, want %v", tt.filter, each, tt.want)
				}
			})
		}
	})

	t.Run("limit and first together are refused", func(t *testing.T) {
		s := newStore(t)
		mustPutResult(t, s, sampleResult("r1", "d1", "s1"), at(time.Hour), true)
		for _, f := range []store.ResultFilter{{Limit: 1, First: 1}, {First: -1}} {
			if rs, err := s.Results(ctx(t), f); err == nil {
				t.Fatalf("Results(%+v) = %d results, want an error", f, len(rs))
			}
		}
	})

	t.Run("each stops at the callback's error", func(t *testing.T) {
		s := newStore(t)
		for i, id := range []string{"r1", "r2", "r3"} {
			mustPutResult(t, s, sampleResult(id, "d1", "s1"), at(time.Duration(i)*time.Hour), true)
		}
		stop := errors.New("enough")
		var seen []string
		err := s.EachResult(ctx(t), store.ResultFilter{}, func(r store.StoredResult) error {
			seen = append(seen, r.RunID)
			if len(seen) == 2 {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) {
			t.Fatalf("EachResult returned %v, want the callback's error", err)
		}
		if !slices.Equal(seen, []string{"r1", "r2"}) {
			t.Fatalf("EachResult went on after the error: saw %v", seen)
		}
	})

	t.Run("purge", func(t *testing.T) {
		s := newStore(t)
		// r3 is received exactly at the cutoff and must stay.
		for i, id := range []string{"r0", "r1", "r2", "r3", "r4"} {
			mustPutResult(t, s, sampleResult(id, "d1", "s1"), at(time.Duration(i)*time.Hour), true)
		}
		cutoff := at(3 * time.Hour)
		if _, err := s.PurgeResults(ctx(t), cutoff, 0); err == nil {
			t.Fatal("PurgeResults with a batch of 0 succeeded, want an error")
		}
		if got := runIDs(mustResults(t, s, store.ResultFilter{})); len(got) != 5 {
			t.Fatalf("a refused purge changed the results: %v", got)
		}
		steps := []struct {
			max, want int
			left      []string
		}{
			{2, 2, []string{"r2", "r3", "r4"}}, // the oldest go first
			{2, 1, []string{"r3", "r4"}},
			{2, 0, []string{"r3", "r4"}},
		}
		for _, st := range steps {
			n, err := s.PurgeResults(ctx(t), cutoff, st.max)
			if err != nil {
				t.Fatalf("PurgeResults: %v", err)
			}
			if n != st.want {
				t.Errorf("PurgeResults deleted %d, want %d", n, st.want)
			}
			if got := runIDs(mustResults(t, s, store.ResultFilter{})); !slices.Equal(got, st.left) {
				t.Fatalf("after the purge: %v, want %v", got, st.left)
			}
		}
		// A purged run id is a new result if it arrives again.
		mustPutResult(t, s, sampleResult("r0", "d1", "s1"), at(5*time.Hour), true)
	})
}
