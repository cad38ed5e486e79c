package adminapi

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/accounts"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// addDevice enrolls a device in the store that last checked in at last
// (zero: never).
func addDevice(t *testing.T, a *api, id string, last time.Time) {
	t.Helper()
	ctx := context.Background()
	if err := a.s.Store.CreateDevice(ctx, store.Device{ID: id, Facts: protocol.Facts{SerialNumber: "S" + id, Hostname: "mac-" + id}, EnrolledAt: time.Now().Add(-30 * 24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if !last.IsZero() {
		if _, err := a.s.Store.RecordCheckin(ctx, id, store.Checkin{Facts: protocol.Facts{SerialNumber: "S" + id, Hostname: "mac-" + id}, At: last}); err != nil {
			t.Fatal(err)
		}
	}
}

func putResult(t *testing.T, a *api, runID, device, status string, at time.Time) {
	t.Helper()
	if _, err := a.s.Store.PutResult(context.Background(), protocol.Result{RunID: runID, DeviceID: device, AssignmentID: "cfg_x", Status: status, FinishedAt: at}, at); err != nil {
		t.Fatal(err)
	}
}

func TestConsoleDashboardCountsTheFleet(t *testing.T) {
	a := newAPI(t)
	now := time.Now()
	addDevice(t, a, "d1", now.Add(-5*time.Minute))
	addDevice(t, a, "d2", now.Add(-3*time.Hour))
	addDevice(t, a, "d3", now.Add(-3*24*time.Hour))
	addDevice(t, a, "d4", now.Add(-30*24*time.Hour))
	addDevice(t, a, "d5", time.Time{})
	addDevice(t, a, "d6", now.Add(-time.Minute))
	if err := a.s.Store.MarkDeviceLeft(context.Background(), "d6", now); err != nil {
		t.Fatal(err)
	}
	putResult(t, a, "r1", "d1", protocol.StatusSucceeded, now.Add(-time.Hour))
	putResult(t, a, "r2", "d1", protocol.StatusSucceeded, now.Add(-2*time.Hour))
	putResult(t, a, "r3", "d2", protocol.StatusFailed, now.Add(-3*time.Hour))
	putResult(t, a, "r4", "d2", protocol.StatusFailed, now.Add(-48*time.Hour)) // too old

	code, b := a.do(accounts.RoleAuditor, http.MethodGet, "/dashboard", nil)
	if code != http.StatusOK {
		t.Fatalf("GET /dashboard: %d %s", code, b)
	}
	var d Dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	if d.Devices != 5 || d.Left != 1 {
		t.Errorf("devices %d left %d, want 5 and 1", d.Devices, d.Left)
	}
	if d.Configurations != 1 {
		t.Errorf("configurations %d, want the default one", d.Configurations)
	}
	got := map[string]int{}
	for _, b := range d.CheckinAges {
		got[b.Label] = b.Count
	}
	want := map[string]int{"within an hour": 1, "1 to 24 hours": 1, "1 to 7 days": 1, "over 7 days": 1, "never": 1}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("check-in ages %v, want %v", got, want)
			break
		}
	}
	if d.Results24h[protocol.StatusSucceeded] != 2 || d.Results24h[protocol.StatusFailed] != 1 || len(d.Results24h) != 2 {
		t.Errorf("results of 24 h %v, want 2 succeeded and 1 failed", d.Results24h)
	}
}
