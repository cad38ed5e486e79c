package adminapi

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server"
	"github.com/mobileatwork/mobileatwork/server/accounts"
	"github.com/mobileatwork/mobileatwork/server/jsonview"
	"github.com/mobileatwork/mobileatwork/server/store"
)

func TestScriptsBothWays(t *testing.T) {
	a := fleet(t)
	ctx := context.Background()
	for name, c := range map[string]Conn{"local": a.local(), "remote": a.remote(accounts.RoleOperator)} {
		t.Run(name, func(t *testing.T) {
			v1 := []byte("#!/bin/sh\necho one " + name + "\n")
			sc, err := Call(ctx, c, AddScript, ScriptAddRequest{Name: "s-" + name, Body: v1, Inputs: []string{"Who:who=world"}})
			if err != nil || sc.Version != 1 || sc.SHA256 != protocol.SHA256Hex(v1) || len(sc.Inputs) != 1 || sc.Inputs[0].Default != "world" {
				t.Fatalf("add: %v %+v", err, sc)
			}
			v2 := []byte("#!/bin/sh\necho two\n")
			set, err := Call(ctx, c, SetScript, ScriptSetRequest{Ref: sc.Name, Body: &v2, Inputs: &[]string{}})
			if err != nil || set.Version != 2 || set.SHA256 != protocol.SHA256Hex(v2) || len(set.Inputs) != 0 {
				t.Fatalf("set: %v %+v", err, set)
			}
			if same, err := Call(ctx, c, SetScript, ScriptSetRequest{Ref: sc.ID, Body: &v2}); err != nil || same.Version != 2 {
				t.Fatalf("the same body again: %v %+v", err, same)
			}
			// Each version's body is kept, for the console's diff.
			for v, want := range map[int][]byte{1: v1, 2: v2} {
				got, err := Call(ctx, c, ShowScriptVersion, ScriptVersionRequest{Ref: sc.ID, Version: fmt.Sprint(v)})
				if err != nil || got.Version != v || string(got.Body) != string(want) || got.SHA256 != protocol.SHA256Hex(want) || got.ScriptID != sc.ID {
					t.Fatalf("version %d: %v %+v", v, err, got)
				}
			}
			if del, err := Call(ctx, c, DeleteScript, RefRequest{Ref: sc.ID}); err != nil || del.ID != sc.ID {
				t.Fatalf("delete: %v %+v", err, del)
			}
			if _, err := Call(ctx, c, ShowScript, RefRequest{Ref: sc.ID}); !errors.Is(err, server.ErrInvalid) {
				t.Fatalf("show after delete: %v", err)
			}
		})
	}
	if _, _, err := a.s.Assign(ctx, "uses hello", "", server.ScriptRequest{Script: "hello"}, []string{"all"}); err != nil {
		t.Fatal(err)
	}
	shown, _ := same(t, a, accounts.RoleAuditor, func(c Conn) (jsonview.Script, error) { return Call(ctx, c, ShowScript, RefRequest{Ref: "hello"}) })
	if len(shown.UsedBy) != 1 || shown.UsedBy[0].Name != "uses hello" || len(shown.Versions) != 1 || shown.Versions[0].SHA256 != shown.SHA256 {
		t.Fatalf("show: %+v", shown)
	}
	list, _ := same(t, a, accounts.RoleAuditor, func(c Conn) ([]jsonview.Script, error) { return All(ctx, c, ListScripts, ListRequest{}) })
	if len(list) != 1 || list[0].Name != "hello" || list[0].UsedBy != nil {
		t.Fatalf("list: %+v", list)
	}
	_, err := same(t, a, accounts.RoleAdmin, func(c Conn) (jsonview.Script, error) { return Call(ctx, c, DeleteScript, RefRequest{Ref: "hello"}) })
	if !errors.Is(err, server.ErrInvalid) {
		t.Fatalf("delete a script in use: %v", err)
	}
}

func TestResultsNewestFirstBothWays(t *testing.T) {
	a := fleet(t)
	ctx := context.Background()
	c, _, err := a.s.Assign(ctx, "nightly", "", server.ScriptRequest{Script: "hello"}, []string{"all"})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	var want []string // newest first
	for i := range 5 {
		r := protocol.Result{RunID: fmt.Sprintf("r%d", i), DeviceID: "dev_1", AssignmentID: c.ID, AssignmentVersion: 1, ScriptID: c.Script.ScriptID, Status: protocol.StatusSucceeded}
		if i == 2 {
			r.Status, r.DeviceID = protocol.StatusFailed, "dev_2"
		}
		if _, err := a.s.Store.PutResult(ctx, r, t0.Add(time.Duration(i)*time.Minute)); err != nil {
			t.Fatal(err)
		}
		want = append([]string{r.RunID}, want...)
	}
	ids := func(rs []jsonview.Result) []string {
		out := []string{}
		for _, r := range rs {
			out = append(out, r.RunID)
		}
		return out
	}
	cases := []struct {
		name string
		req  ResultsRequest
		want []string
	}{
		{"all", ResultsRequest{}, want},
		{"by configuration name", ResultsRequest{Config: "nightly"}, want},
		{"by script", ResultsRequest{Script: "hello"}, want},
		{"by device", ResultsRequest{Device: "dev_2"}, []string{"r2"}},
		{"by status", ResultsRequest{Status: protocol.StatusSucceeded}, []string{"r4", "r3", "r1", "r0"}},
		{"since a time", ResultsRequest{Since: t0.Add(3 * time.Minute).Format(time.RFC3339)}, []string{"r4", "r3"}},
		{"since long ago", ResultsRequest{Since: "87600h"}, want},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := same(t, a, accounts.RoleAuditor, func(c Conn) ([]jsonview.Result, error) { return All(ctx, c, ListResults, tc.req) })
			if !slices.Equal(ids(got), tc.want) {
				t.Fatalf("listed %v, want %v", ids(got), tc.want)
			}
			for _, r := range got {
				if r.ConfigName != "nightly" {
					t.Fatalf("%s names configuration %q, want nightly", r.RunID, r.ConfigName)
				}
			}
		})
	}
	// Pages of two: newest first, then the rest, then the last one.
	var paged []string
	req := ResultsRequest{PageRequest: PageRequest{Limit: 2}}
	for pages := 1; ; pages++ {
		p, _ := same(t, a, accounts.RoleAuditor, func(c Conn) (Page[jsonview.Result], error) { return Call(ctx, c, ListResults, req) })
		paged = append(paged, ids(p.Items)...)
		if p.Next == "" {
			if pages != 3 {
				t.Errorf("%d pages of 2 for 5 results", pages)
			}
			break
		}
		req.Cursor = p.Next
	}
	if !slices.Equal(paged, want) {
		t.Fatalf("paged %v, want %v", paged, want)
	}
	// A deleted configuration's results stay, unnamed.
	if _, err := a.s.DeleteConfiguration(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	got, _ := same(t, a, accounts.RoleAuditor, func(c Conn) ([]jsonview.Result, error) { return All(ctx, c, ListResults, ResultsRequest{}) })
	if len(got) != 5 || got[0].ConfigName != "" || got[0].ConfigID != c.ID {
		t.Fatalf("after delete: %+v", got[0])
	}
}

func TestRunsBothWays(t *testing.T) {
	a := fleet(t)
	ctx := context.Background()
	created := map[string]RunCreated{}
	for name, c := range map[string]Conn{"local": a.local(), "remote": a.remote(accounts.RoleOperator)} {
		rn, err := Call(ctx, c, CreateRun, RunRequest{Script: "hello", Devices: []string{"dev_2"}, To: []string{"group:lab"}, Inputs: []string{"who=" + name}, Expires: "2h", Retries: 1})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !slices.Equal(rn.Devices, []string{"dev_1", "dev_2"}) || rn.Config.ExpiresAt == nil || rn.Config.Script.Retries != 1 || rn.Config.Script.Inputs["who"] != name {
			t.Fatalf("%s: created %+v", name, rn)
		}
		created[name] = rn
	}
	rn := created["remote"]
	cfg, err := a.s.Configuration(ctx, rn.Config.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.s.Store.PutStatuses(ctx, []store.DeviceStatus{{ConfigID: cfg.ID, DeviceID: "dev_1", Version: 1, Status: store.StatusRunning, UpdatedAt: time.Now()}}); err != nil {
		t.Fatal(err)
	}
	r := protocol.Result{RunID: "run-1", DeviceID: "dev_2", AssignmentID: cfg.ID, AssignmentVersion: 1, ScriptID: cfg.Script.ScriptID, Status: protocol.StatusSucceeded, Stdout: "hello"}
	if _, err := a.s.Store.PutResult(ctx, r, time.Now()); err != nil {
		t.Fatal(err)
	}
	view, _ := same(t, a, accounts.RoleAuditor, func(c Conn) (RunView, error) { return Call(ctx, c, ShowRun, RunShowRequest{ID: rn.Config.ID}) })
	if view.Config.ID != rn.Config.ID || len(view.Results) != 1 || view.Results[0].Stdout != "hello" || view.Results[0].ConfigName != rn.Config.Name {
		t.Fatalf("view: %+v", view)
	}
	// A next look reads only the results received since the last one seen.
	later, _ := same(t, a, accounts.RoleAuditor, func(c Conn) (RunView, error) {
		return Call(ctx, c, ShowRun, RunShowRequest{ID: rn.Config.ID, Since: view.Results[0].ReceivedAt.Add(time.Nanosecond).Format(time.RFC3339Nano)})
	})
	if len(later.Results) != 0 || len(later.Statuses) != len(view.Statuses) {
		t.Fatalf("since the result: %+v", later)
	}
	var running bool
	for _, st := range view.Statuses {
		running = running || st.DeviceID == "dev_1" && st.Status.Status == store.StatusRunning
	}
	if !running {
		t.Fatalf("statuses %+v: want dev_1 running", view.Statuses)
	}
}

func TestBrakeBothWays(t *testing.T) {
	a := fleet(t)
	ctx := context.Background()
	stopped, err := Call(ctx, a.remote(accounts.RoleOperator), StopScripts, StopRequest{Reason: "incident 42"})
	if err != nil || !stopped.Stopped || !stopped.Tenant || stopped.Reason != "incident 42" || !slices.Equal(stopped.Devices, []string{"dev_1", "dev_2"}) {
		t.Fatalf("stop: %v %+v", err, stopped)
	}
	// Stopping again changes nothing: the same answer both ways.
	again, _ := same(t, a, accounts.RoleOperator, func(c Conn) (Brake, error) { return Call(ctx, c, StopScripts, StopRequest{Reason: "incident 42"}) })
	if len(again.Devices) != 0 || !slices.Equal(again.Unchanged, []string{""}) {
		t.Fatalf("stop again: %+v", again)
	}
	if _, err := Call(ctx, a.local(), StopScripts, StopRequest{Devices: []string{"dev_1"}, Reason: "this one"}); err != nil {
		t.Fatal(err)
	}
	stops, _ := same(t, a, accounts.RoleAuditor, func(c Conn) ([]ScriptsStop, error) { return All(ctx, c, ListStops, ListRequest{}) })
	if len(stops) != 2 || !stops[0].Tenant || stops[0].Reason != "incident 42" || stops[1].DeviceID != "dev_1" || stops[1].At == nil {
		t.Fatalf("stops: %+v", stops)
	}
	res, err := Call(ctx, a.remote(accounts.RoleOperator), ResumeScripts, ResumeRequest{Devices: []string{"dev_1"}})
	if err != nil || res.Stopped || !res.TenantStopped || !slices.Equal(res.Devices, []string{"dev_1"}) {
		t.Fatalf("resume dev_1: %v %+v", err, res)
	}
	if res, err = Call(ctx, a.local(), ResumeScripts, ResumeRequest{}); err != nil || !res.Tenant || len(res.Devices) != 2 {
		t.Fatalf("resume: %v %+v", err, res)
	}
	if stops, _ = same(t, a, accounts.RoleAuditor, func(c Conn) ([]ScriptsStop, error) { return All(ctx, c, ListStops, ListRequest{}) }); len(stops) != 0 {
		t.Fatalf("stops after resume: %+v", stops)
	}
}

// Pages end at an instant and go on after the results of that instant
// already handed, even when many arrived in the same instant, whichever
// the order.
func TestResultsPagesAcrossOneInstant(t *testing.T) {
	a := fleet(t)
	ctx := context.Background()
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	// r0, then r1..r5 in one instant, then r6.
	at := []time.Duration{0, time.Second, time.Second, time.Second, time.Second, time.Second, 2 * time.Second}
	var want []string
	for i, d := range at {
		r := protocol.Result{RunID: fmt.Sprintf("r%d", i), DeviceID: "dev_1", AssignmentID: "cfg_gone", AssignmentVersion: 1, ScriptID: "scr_x", Status: protocol.StatusSucceeded}
		if _, err := a.s.Store.PutResult(ctx, r, t0.Add(d)); err != nil {
			t.Fatal(err)
		}
		want = append(want, r.RunID)
	}
	var backward []string
	for _, id := range slices.Backward(want) {
		backward = append(backward, id)
	}
	for _, oldest := range []bool{true, false} {
		order := map[bool][]string{true: want, false: backward}[oldest]
		for _, limit := range []int{1, 2, 3, 7, 8} {
			var got []string
			req := ResultsRequest{OldestFirst: oldest, PageRequest: PageRequest{Limit: limit}}
			for pages := 0; pages < 10; pages++ {
				p, _ := same(t, a, accounts.RoleAuditor, func(c Conn) (Page[jsonview.Result], error) { return Call(ctx, c, ListResults, req) })
				if len(p.Items) > limit {
					t.Fatalf("limit %d: a page of %d", limit, len(p.Items))
				}
				for _, r := range p.Items {
					got = append(got, r.RunID)
				}
				if p.Next == "" {
					break
				}
				req.Cursor = p.Next
			}
			if !slices.Equal(got, order) {
				t.Errorf("oldest first %v, limit %d: paged %v, want %v", oldest, limit, got, order)
			}
		}
	}
	for _, bad := range []string{"nope", "2026-12-01T09:00:00Z~-1", "2026-12-01T09:00:00Z", "yesterday~1"} {
		_, err := same(t, a, accounts.RoleAuditor, func(c Conn) (Page[jsonview.Result], error) {
			return Call(ctx, c, ListResults, ResultsRequest{OldestFirst: bad == "nope", PageRequest: PageRequest{Cursor: bad}})
		})
		if !errors.Is(err, errBadRequest) {
			t.Errorf("cursor %q: %v, want a bad request", bad, err)
		}
	}
}

// filterRecorder keeps the filters the results listing asks the store for.
type filterRecorder struct {
	store.AllStorage
	filters []store.ResultFilter
}

func (r *filterRecorder) EachResult(ctx context.Context, f store.ResultFilter, fn func(store.StoredResult) error) error {
	r.filters = append(r.filters, f)
	return r.AllStorage.EachResult(ctx, f, fn)
}

// TestResultsOldestPageBoundsTheRead checks that a page of the oldest asks
// the store for no more rows than it needs: those handed at the cursor's
// instant, the page, and one more. PostgreSQL reads every row of an
// unbounded query off the connection even when the page stops early, so
// without the bound paging a history costs its square.
func TestResultsOldestPageBoundsTheRead(t *testing.T) {
	a := fleet(t)
	ctx := context.Background()
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	for i := range 10 {
		r := protocol.Result{RunID: fmt.Sprintf("r%d", i), DeviceID: "dev_1", AssignmentID: "cfg_gone", AssignmentVersion: 1, ScriptID: "scr_x", Status: protocol.StatusSucceeded}
		// Two results an instant, so cursors carry a count.
		if _, err := a.s.Store.PutResult(ctx, r, t0.Add(time.Duration(i/2)*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	rec := &filterRecorder{AllStorage: a.s.Store}
	a.s.Store = rec
	req := ResultsRequest{OldestFirst: true, PageRequest: PageRequest{Limit: 3}}
	var got int
	for pages := 0; pages < 10; pages++ {
		p, err := Call(ctx, a.local(), ListResults, req)
		if err != nil {
			t.Fatal(err)
		}
		got += len(p.Items)
		handed := 0
		if req.Cursor != "" {
			cur, err := parseInstantCursor(req.Cursor)
			if err != nil {
				t.Fatal(err)
			}
			handed = cur.handed
		}
		if f := rec.filters[len(rec.filters)-1]; f.First != handed+3+1 || f.Limit != 0 {
			t.Fatalf("page %d (cursor %q) read the store with First %d, Limit %d; want First %d", pages, req.Cursor, f.First, f.Limit, handed+3+1)
		}
		if p.Next == "" {
			break
		}
		req.Cursor = p.Next
	}
	if got != 10 {
		t.Fatalf("the pages held %d results, want 10", got)
	}
}
