package storetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/server/distribution"
	"github.com/mobileatwork/mobileatwork/server/store"
)

func pendingWakes(t *testing.T, s store.AllStorage, now time.Time) []store.Wake {
	t.Helper()
	ws, err := s.PendingWakes(ctx(t), now)
	if err != nil {
		t.Fatalf("PendingWakes: %v", err)
	}
	for i := range ws {
		ws[i].RequestedAt, ws[i].ExpiresAt = utc(ws[i].RequestedAt), utc(ws[i].ExpiresAt)
	}
	return ws
}

func testWakes(t *testing.T, newStore NewStore) {
	s := newStore(t)
	if got := pendingWakes(t, s, at(0)); len(got) != 0 {
		t.Fatalf("a new store has wakes pending: %+v", got)
	}
	if err := s.RequestWakes(ctx(t), nil, at(0), at(time.Minute)); err != nil {
		t.Fatalf("RequestWakes of no device: %v", err)
	}
	if err := s.RequestWakes(ctx(t), []string{"d2", "d1"}, at(0), at(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	// A newer request for d1 replaces the older: later, and shorter.
	if err := s.RequestWakes(ctx(t), []string{"d1"}, at(10*time.Second), at(time.Minute)); err != nil {
		t.Fatal(err)
	}
	want := []store.Wake{
		{DeviceID: "d1", RequestedAt: utc(at(10 * time.Second)), ExpiresAt: utc(at(time.Minute))},
		{DeviceID: "d2", RequestedAt: utc(at(0)), ExpiresAt: utc(at(2 * time.Minute))},
	}
	if got := pendingWakes(t, s, at(30*time.Second)); !reflect.DeepEqual(got, want) {
		t.Fatalf("pending =\n %+v\nwant\n %+v", got, want)
	}
	if got := pendingWakes(t, s, at(time.Minute)); !reflect.DeepEqual(got, want[1:]) {
		t.Fatalf("pending once d1's wake expired = %+v, want only d2's", got)
	}

	// Delivering the wake requested at 0 leaves d1's newer one pending.
	if err := s.DeleteWake(ctx(t), "d1", at(0)); err != nil {
		t.Fatal(err)
	}
	if got := pendingWakes(t, s, at(0)); len(got) != 2 {
		t.Fatalf("a delivery of an older wake removed the newer: pending %+v", got)
	}
	if err := s.DeleteWake(ctx(t), "d1", at(10*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteWake(ctx(t), "nobody", at(0)); err != nil {
		t.Fatalf("DeleteWake of no wake: %v", err)
	}
	if got := pendingWakes(t, s, at(0)); !reflect.DeepEqual(got, want[1:]) {
		t.Fatalf("pending after delivery to d1 = %+v, want only d2's", got)
	}

	if err := s.RequestWakes(ctx(t), []string{"d3"}, at(0), at(time.Second)); err != nil {
		t.Fatal(err)
	}
	n, err := s.PurgeWakes(ctx(t), at(time.Minute))
	if err != nil || n != 1 {
		t.Fatalf("PurgeWakes = %d, %v; want d3's expired wake purged", n, err)
	}
	if got := pendingWakes(t, s, at(-time.Hour)); !reflect.DeepEqual(got, want[1:]) {
		t.Fatalf("after the purge %+v are stored, want only d2's", got)
	}
}

func testConfigurationExpiry(t *testing.T, newStore NewStore) {
	s := newStore(t)
	mustCreateScript(t, s, sampleScript("s1", at(0)))
	c := sampleScriptConfig("c1", "Run now", "s1", at(0), distribution.Target{Kind: distribution.Device, Value: "d1"})
	c.ExpiresAt = at(time.Hour)
	mustCreateConfig(t, s, c)
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

	c.ExpiresAt = time.Time{}
	if err := s.UpdateConfiguration(ctx(t), c); err != nil {
		t.Fatal(err)
	}
	if got, err = s.Configuration(ctx(t), "c1"); err != nil {
		t.Fatal(err)
	}
	checkConfig(t, got, c)
}
