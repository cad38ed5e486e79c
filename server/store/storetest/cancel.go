package storetest

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/server/distribution"
	"github.com/mobileatwork/mobileatwork/server/store"
)

func mustCancellations(t *testing.T, s store.AllStorage, deviceID string) []store.Cancellation {
	t.Helper()
	cs, err := s.Cancellations(ctx(t), deviceID)
	if err != nil {
		t.Fatalf("Cancellations: %v", err)
	}
	for i := range cs {
		cs[i].At = utc(cs[i].At)
	}
	return cs
}

// Cancelling records, in one transaction, the versions withdrawn from
// devices with their statuses, and the expiry when one is given; only an
// expiry changes the configuration (and so the generation).
func testCancellations(t *testing.T, newStore NewStore) {
	s := newStore(t)
	all := []distribution.Target{{Kind: distribution.All}}
	mustCreateScript(t, s, sampleScript("s1", at(0)))
	mustCreateConfig(t, s, sampleScriptConfig("c1", "one", "s1", at(0), all...))
	mustCreateConfig(t, s, sampleScriptConfig("c2", "two", "s1", at(0), all...))
	mustCreateDevice(t, s, sampleDevice("d1", at(0)))
	mustCreateDevice(t, s, sampleDevice("d2", at(0)))
	if got := mustCancellations(t, s, "d1"); len(got) != 0 {
		t.Fatalf("a new store has cancellations: %+v", got)
	}

	gen := mustGeneration(t, s)
	st := store.DeviceStatus{ConfigID: "c1", DeviceID: "d1", Version: 1, Status: store.StatusCancelled, Detail: "cancelled before it ran", UpdatedAt: at(time.Minute)}
	if err := s.CancelRuns(ctx(t), "c1", time.Time{}, []store.Cancellation{{ConfigID: "c1", DeviceID: "d1", Version: 1, At: at(time.Minute)}}, []store.DeviceStatus{st}); err != nil {
		t.Fatal(err)
	}
	if g := mustGeneration(t, s); g != gen {
		t.Errorf("a cancel on one device grew the generation %d -> %d: every device would check in in full", gen, g)
	}
	want := []store.Cancellation{{ConfigID: "c1", DeviceID: "d1", Version: 1, At: utc(at(time.Minute))}}
	if got := mustCancellations(t, s, "d1"); !reflect.DeepEqual(got, want) {
		t.Fatalf("cancellations of d1 = %+v, want %+v", got, want)
	}
	if got := mustCancellations(t, s, "d2"); len(got) != 0 {
		t.Fatalf("d2 has cancellations: %+v", got)
	}
	sts, err := s.DeviceStatuses(ctx(t), "d1")
	if err != nil || len(sts) != 1 || sts[0].Status != store.StatusCancelled || sts[0].Detail != st.Detail {
		t.Fatalf("statuses of d1 = %+v, %v; want the cancelled one", sts, err)
	}
	if c := mustConfigByID(t, s, "c1"); !c.ExpiresAt.IsZero() {
		t.Errorf("a cancel without expiry set it to %v", c.ExpiresAt)
	}

	// Again, at a later version and with an expiry: replaced, expired.
	running := store.DeviceStatus{ConfigID: "c1", DeviceID: "d2", Version: 1, Status: store.StatusCancelling, Detail: "asked the device to stop it", UpdatedAt: at(2 * time.Minute)}
	cs := []store.Cancellation{{DeviceID: "d1", Version: 2, At: at(2 * time.Minute)}, {DeviceID: "d2", Version: 1, At: at(2 * time.Minute)}}
	if err := s.CancelRuns(ctx(t), "c1", at(2*time.Minute), cs, []store.DeviceStatus{running}); err != nil {
		t.Fatal(err)
	}
	if g := mustGeneration(t, s); g <= gen {
		t.Errorf("a cancel that expires the configuration left the generation at %d", g)
	}
	if c := mustConfigByID(t, s, "c1"); !c.ExpiresAt.Equal(at(2 * time.Minute)) {
		t.Errorf("expiry %v, want %v", c.ExpiresAt, at(2*time.Minute))
	}
	if got := mustCancellations(t, s, "d1"); len(got) != 1 || got[0].Version != 2 {
		t.Errorf("cancellations of d1 = %+v, want one at version 2", got)
	}

	// All or nothing: an unknown device or configuration stores nothing.
	bad := []store.Cancellation{{DeviceID: "d1", Version: 9, At: at(0)}, {DeviceID: "nobody", Version: 1, At: at(0)}}
	if err := s.CancelRuns(ctx(t), "c2", at(time.Hour), bad, nil); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("CancelRuns with an unknown device = %v, want ErrNotFound", err)
	}
	if err := s.CancelRuns(ctx(t), "nope", time.Time{}, nil, nil); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("CancelRuns of an unknown configuration = %v, want ErrNotFound", err)
	}
	if got := mustCancellations(t, s, "d1"); len(got) != 1 || got[0].ConfigID != "c1" {
		t.Errorf("a refused cancel left cancellations %+v", got)
	}
	if c := mustConfigByID(t, s, "c2"); !c.ExpiresAt.IsZero() {
		t.Errorf("a refused cancel set the expiry %v", c.ExpiresAt)
	}

	// Deleting the configuration deletes its cancellations.
	if err := s.DeleteConfiguration(ctx(t), "c1"); err != nil {
		t.Fatal(err)
	}
	if got := mustCancellations(t, s, "d1"); len(got) != 0 {
		t.Errorf("cancellations outlived their configuration: %+v", got)
	}
}

func mustStops(t *testing.T, s store.AllStorage, ids ...string) []store.ScriptsStop {
	t.Helper()
	sts, err := s.ScriptsStops(ctx(t), ids...)
	if err != nil {
		t.Fatalf("ScriptsStops: %v", err)
	}
	for i := range sts {
		sts[i].At = utc(sts[i].At)
	}
	return sts
}

// The brake on scripts is kept per device and tenant-wide; every change
// of it grows the generation, so no device is answered "unchanged" past it.
func testScriptsStops(t *testing.T, newStore NewStore) {
	s := newStore(t)
	mustCreateDevice(t, s, sampleDevice("d1", at(0)))
	mustCreateDevice(t, s, sampleDevice("d2", at(0)))
	if got := mustStops(t, s); len(got) != 0 {
		t.Fatalf("a new store has stops: %+v", got)
	}
	gen := mustGeneration(t, s)
	grew := func(what string) {
		t.Helper()
		g := mustGeneration(t, s)
		if g <= gen {
			t.Errorf("%s left the generation at %d", what, g)
		}
		gen = g
	}
	if err := s.StopScripts(ctx(t), []store.ScriptsStop{{DeviceID: "d2", Reason: "incident 42", At: at(time.Minute)}, {Reason: "all hands", At: at(time.Minute)}}); err != nil {
		t.Fatal(err)
	}
	grew("a stop")
	want := []store.ScriptsStop{{Reason: "all hands", At: utc(at(time.Minute))}, {DeviceID: "d2", Reason: "incident 42", At: utc(at(time.Minute))}}
	if got := mustStops(t, s); !reflect.DeepEqual(got, want) {
		t.Fatalf("stops = %+v, want %+v", got, want)
	}
	if got := mustStops(t, s, "", "d1"); !reflect.DeepEqual(got, want[:1]) {
		t.Fatalf("stops of the tenant and d1 = %+v, want the tenant's alone", got)
	}
	// A second stop replaces the reason.
	if err := s.StopScripts(ctx(t), []store.ScriptsStop{{DeviceID: "d2", Reason: "still 42", At: at(2 * time.Minute)}}); err != nil {
		t.Fatal(err)
	}
	grew("a new reason")
	if got := mustStops(t, s, "d2"); len(got) != 1 || got[0].Reason != "still 42" {
		t.Fatalf("stops of d2 = %+v, want the new reason", got)
	}
	// An unknown device stores nothing, the others of the call included.
	err := s.StopScripts(ctx(t), []store.ScriptsStop{{DeviceID: "d1", Reason: "x", At: at(0)}, {DeviceID: "nobody", Reason: "x", At: at(0)}})
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("StopScripts of an unknown device = %v, want ErrNotFound", err)
	}
	if got := mustStops(t, s, "d1"); len(got) != 0 {
		t.Fatalf("a refused stop stopped d1: %+v", got)
	}
	gen = mustGeneration(t, s)
	if err := s.ResumeScripts(ctx(t), []string{"", "d1"}); err != nil {
		t.Fatal(err)
	}
	grew("a resume")
	if got := mustStops(t, s); len(got) != 1 || got[0].DeviceID != "d2" {
		t.Fatalf("stops after resuming the tenant = %+v, want d2's alone", got)
	}
	if err := s.ResumeScripts(ctx(t), []string{"d1"}); err != nil {
		t.Fatalf("resuming a device not stopped: %v", err)
	}
	if g := mustGeneration(t, s); g != gen {
		t.Errorf("a resume that removed nothing grew the generation %d -> %d", gen, g)
	}
}
