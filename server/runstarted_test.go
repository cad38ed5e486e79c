package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// The start notice marks the configuration running on the device, over the
// device routes' authentication; bad input is refused with one error and
// changes nothing, and a notice that comes after its result (or after the
// final result of its run) never replaces that result.
func TestRunStartedRoute(t *testing.T) {
	s := newTenant(t)
	ctx := t.Context()
	if _, err := s.Distribute(ctx, "default", []string{"all"}, false); err != nil {
		t.Fatal(err)
	}
	cert := fakeDevice(t, s, "d1", 1)
	fakeDevice(t, s, "d2", 2)
	sc := addScript(t, s, "flaky", "exit 1\n")
	two := 2
	c, _, err := s.Assign(ctx, "flaky", "", ScriptRequest{Script: sc.ID, Retries: &two}, []string{"device:d1"})
	if err != nil {
		t.Fatal(err)
	}
	h := s.Handler()
	at := time.Date(2027, 1, 4, 9, 0, 0, 0, time.UTC)
	notice := func(runID string, attempt int) protocol.RunStarted {
		return protocol.RunStarted{DeviceID: "d1", RunID: runID, AssignmentID: c.ID, AssignmentVersion: c.Version, Attempt: attempt, StartedAt: at}
	}
	status := func() store.DeviceStatus {
		t.Helper()
		sts, err := s.Store.ConfigStatuses(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(sts) == 0 {
			return store.DeviceStatus{}
		}
		return sts[0]
	}

	r := httptest.NewRequestWithContext(context.Background(), http.MethodPost, protocol.PathRunStarted, strings.NewReader("{}"))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusUnauthorized {
		t.Errorf("without a certificate: %d, want 401", w.Code)
	}
	bad := []struct {
		name string
		body any
		code int
		want string
	}{
		{"not JSON", "started", http.StatusBadRequest, ""},
		{"another device", func() protocol.RunStarted { n := notice("r1", 1); n.DeviceID = "d2"; return n }(), http.StatusForbidden, "device id does not match the certificate"},
		{"no run id", notice("", 1), http.StatusBadRequest, "run start refused: run id missing or longer than 128 bytes"},
		{"long run id", notice(strings.Repeat("r", 129), 1), http.StatusBadRequest, "run start refused: run id missing or longer than 128 bytes"},
		{"no version", func() protocol.RunStarted { n := notice("r1", 1); n.AssignmentVersion = 0; return n }(), http.StatusBadRequest, "run start refused: assignment version must be 1 or more"},
		{"attempt out of range", notice("r1", protocol.MaxRetries+2), http.StatusBadRequest, "run start refused: attempt must be 0 to 11"},
		{"no start time", func() protocol.RunStarted { n := notice("r1", 1); n.StartedAt = time.Time{}; return n }(), http.StatusBadRequest, "run start refused: started_at is required"},
		{"not its configuration", func() protocol.RunStarted { n := notice("r1", 1); n.AssignmentID = "cfg_other"; return n }(), http.StatusNotFound, "no such script configuration for this device"},
	}
	for _, tt := range bad {
		w := deviceRequest(h, cert, protocol.PathRunStarted, tt.body)
		var e protocol.Error
		json.Unmarshal(w.Body.Bytes(), &e)
		if w.Code != tt.code || (tt.want != "" && e.Error != tt.want) || e.Error == "" || strings.Contains(e.Error, "\n") {
			t.Errorf("%s: %d %q, want %d %q", tt.name, w.Code, e.Error, tt.code, tt.want)
		}
		if st := status(); st.Status != "" {
			t.Fatalf("%s: a refused notice left status %q", tt.name, st.Status)
		}
	}

	post := func(what string, body any, path string) {
		t.Helper()
		if w := deviceRequest(h, cert, path, body); w.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", what, w.Code, w.Body)
		}
	}
	expect := func(what, status0, detail string, done bool) {
		t.Helper()
		st := status()
		if st.Status != status0 || st.Detail != detail {
			t.Fatalf("%s: %s %q, want %s %q", what, st.Status, st.Detail, status0, detail)
		}
		d, err := s.Store.Device(ctx, "d1")
		if err != nil {
			t.Fatal(err)
		}
		if got := finished(c, d, st); got != done {
			t.Fatalf("%s: finished = %v, want %v", what, got, done)
		}
	}
	result := func(runID string, attempt int, retryAt time.Time) protocol.ResultsRequest {
		return protocol.ResultsRequest{DeviceID: "d1", Results: []protocol.Result{{RunID: runID, DeviceID: "d1", AssignmentID: c.ID,
			AssignmentVersion: c.Version, ScriptID: sc.ID, Status: protocol.StatusFailed, ExitCode: 1, Attempt: attempt, RetryAt: retryAt}}}
	}
	next := at.Add(time.Minute)
	post("attempt 1 starts", notice("r1", 1), protocol.PathRunStarted)
	expect("attempt 1 started", store.StatusRunning, "attempt 1 started at 2027-01-04T09:00:00Z (run r1)", false)
	post("attempt 1 fails", result("r1", 1, next), protocol.PathResults)
	expect("attempt 1 failed", protocol.StatusFailed, "retrying: attempt 1 failed (exit 1); next at 2027-01-04T09:01:00Z", false)
	post("a late notice of attempt 1", notice("r1", 1), protocol.PathRunStarted)
	expect("after the late notice", protocol.StatusFailed, "retrying: attempt 1 failed (exit 1); next at 2027-01-04T09:01:00Z", false)
	post("attempt 2 starts", notice("r2", 2), protocol.PathRunStarted)
	expect("attempt 2 started", store.StatusRunning, "attempt 2 started at 2027-01-04T09:00:00Z (run r2)", false)
	post("attempt 2 fails for good", result("r2", 2, time.Time{}), protocol.PathResults)
	expect("attempt 2 failed", protocol.StatusFailed, "exit 1 (attempt 2)", true)
	for _, n := range []protocol.RunStarted{notice("r2", 2), notice("r3", 3)} {
		post("a notice after the final result", n, protocol.PathRunStarted)
		expect("after a notice that came after the final result", protocol.StatusFailed, "exit 1 (attempt 2)", true)
	}
}

func TestSupersedes(t *testing.T) {
	occ := time.Date(2027, 1, 4, 9, 0, 0, 0, time.UTC)
	retry := occ.Add(time.Minute)
	n := protocol.RunStarted{RunID: "r2", AssignmentVersion: 2, Occurrence: occ, Attempt: 2}
	tests := []struct {
		name string
		r    protocol.Result
		want bool
	}{
		{"its own result", protocol.Result{RunID: "r2", AssignmentVersion: 2, Occurrence: occ, Attempt: 2}, true},
		{"an earlier attempt announcing this one", protocol.Result{RunID: "r1", AssignmentVersion: 2, Occurrence: occ, Attempt: 1, RetryAt: retry}, false},
		{"a final earlier attempt", protocol.Result{RunID: "r1", AssignmentVersion: 2, Occurrence: occ, Attempt: 1}, true},
		{"a later attempt", protocol.Result{RunID: "r3", AssignmentVersion: 2, Occurrence: occ, Attempt: 3, RetryAt: retry}, true},
		{"an earlier occurrence", protocol.Result{RunID: "r0", AssignmentVersion: 2, Occurrence: occ.Add(-24 * time.Hour)}, false},
		{"a later occurrence", protocol.Result{RunID: "r9", AssignmentVersion: 2, Occurrence: occ.Add(24 * time.Hour)}, true},
		{"a report that it waits for a user", protocol.Result{RunID: "r2w", AssignmentVersion: 2, Occurrence: occ, Attempt: 2, Waiting: protocol.WaitingConsoleUser}, false},
		{"an older version", protocol.Result{RunID: "old", AssignmentVersion: 1, Occurrence: occ.Add(24 * time.Hour)}, false},
	}
	for _, tt := range tests {
		if got := supersedes(tt.r, n); got != tt.want {
			t.Errorf("%s: supersedes = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// A device that reports starts is running once it says so, not when it
// fetches the script; an older agent is running once it fetched it.
func TestBlobFetchMarksRunningOnlyOlderAgents(t *testing.T) {
	s := newTenant(t)
	ctx := t.Context()
	if _, err := s.Distribute(ctx, "default", []string{"all"}, false); err != nil {
		t.Fatal(err)
	}
	certs := map[string]*x509.Certificate{"new": fakeDevice(t, s, "new", 1), "old": fakeDevice(t, s, "old", 2)}
	if _, err := s.Store.RecordCheckin(ctx, "new", store.Checkin{Capabilities: []string{protocol.CapRunStarted}, At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	sc := addScript(t, s, "hello", "echo hi\n")
	c, _, err := s.Assign(ctx, "hello", "", ScriptRequest{Script: sc.ID}, []string{"all"})
	if err != nil {
		t.Fatal(err)
	}
	h := s.Handler()
	for id, cert := range certs {
		r := httptest.NewRequestWithContext(ctx, http.MethodGet, protocol.PathBlob+c.ID+"/1", nil)
		r.TLS = &tls.ConnectionState{VerifiedChains: [][]*x509.Certificate{{cert}}}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			t.Fatalf("%s: blob %d %s", id, w.Code, w.Body)
		}
	}
	sts, err := s.Store.ConfigStatuses(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	running := map[string]bool{}
	for _, st := range sts {
		running[st.DeviceID] = st.Status == store.StatusRunning
	}
	if !running["old"] || running["new"] {
		t.Fatalf("running after the fetch: %v; want the older agent only", running)
	}
}

// A run-once configuration whose failed attempt announces another is sent
// again at the next check-in; once its last attempt is in, it is not.
func TestRetryingRunOnceIsSentAgain(t *testing.T) {
	s := newTenant(t)
	ctx := t.Context()
	if _, err := s.Distribute(ctx, "default", []string{"all"}, false); err != nil {
		t.Fatal(err)
	}
	d, cert := benchDevice(t, s, "dev_retry")
	d.Capabilities = []string{protocol.CapSchedule, protocol.CapRetries}
	sc := addScript(t, s, "flaky", "exit 1\n")
	one := 1
	c, _, err := s.Assign(ctx, "flaky", "", ScriptRequest{Script: sc.ID, Retries: &one}, []string{"all"})
	if err != nil {
		t.Fatal(err)
	}
	req := protocol.CheckinRequest{ProtocolVersion: protocol.Version, DeviceID: d.ID, AgentVersion: "1.80.0",
		Capabilities: d.Capabilities, Nonce: make([]byte, 32)}
	sent := func() int {
		t.Helper()
		p, _, err := s.checkin(ctx, d, req, cert)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range p.Assignments {
			if a.ID == c.ID {
				return a.Retries
			}
		}
		return -1
	}
	if got := sent(); got != 1 {
		t.Fatalf("first check-in: retries %d, want the assignment with 1", got)
	}
	for i, retryAt := range []time.Time{time.Now().Add(time.Minute), {}} {
		r := protocol.Result{RunID: fmt.Sprintf("r%d", i+1), DeviceID: d.ID, AssignmentID: c.ID, AssignmentVersion: c.Version,
			ScriptID: sc.ID, Status: protocol.StatusFailed, ExitCode: 1, Attempt: i + 1, RetryAt: retryAt}
		if _, err := s.Store.PutResult(ctx, r, time.Now()); err != nil {
			t.Fatal(err)
		}
		st, detail := resultStatus(r)
		if err := s.setRunStatus(ctx, d, c.ID, c.Version, st, detail, time.Now()); err != nil {
			t.Fatal(err)
		}
		if got, wantSent := sent(), retryAt.IsZero(); (got == -1) != wantSent {
			t.Fatalf("after attempt %d: sent = %v, want %v", i+1, got != -1, !wantSent)
		}
	}
}
