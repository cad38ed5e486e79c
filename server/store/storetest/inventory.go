package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/store"
)

func sampleInventory(deviceID string, collected time.Time) protocol.InventoryReport {
	return protocol.InventoryReport{
		DeviceID:    deviceID,
		Hash:        "3a7bd3e2360a3d29eea436fcfb7e44c735d117c42d1c1835420b6b9942dd4f1b",
		CollectedAt: collected,
		Facts:       sampleDevice(deviceID, collected).Facts,
		Receipts: []protocol.InventoryReceipt{
			{PackageID: "com.example.agent", Version: "1.70.0", InstallDate: collected.Add(-time.Hour), InstallPrefix: "/", InstallProcess: "installer"},
			{PackageID: "com.example.tools", Version: "2.0", InstallPrefix: "/"}, // no install date
			{PackageID: "com.example.tools", Version: "1.0", InstallDate: collected.Add(-48 * time.Hour), InstallPrefix: "/opt"},
		},
		Apps: []protocol.InventoryApp{
			{BundleID: "com.example.Café", Name: "Café 日本", Version: "3.1", Build: "310", Path: "/Applications/Café 日本.app"},
			{BundleID: "", Name: "Unnamed", Path: "/Applications/Utilities/Unnamed.app"},
		},
		Errors: []protocol.InventoryError{{Path: "/Applications/Broken.app", Error: "missing Contents/Info.plist"}},
	}
}

// normInventory makes two inventories comparable: instants in UTC and empty
// lists as nil.
func normInventory(r store.StoredInventory) store.StoredInventory {
	r.CollectedAt, r.ReceivedAt = utc(r.CollectedAt), utc(r.ReceivedAt)
	r.Receipts = append([]protocol.InventoryReceipt(nil), r.Receipts...)
	for i := range r.Receipts {
		r.Receipts[i].InstallDate = utc(r.Receipts[i].InstallDate)
	}
	if len(r.Receipts) == 0 {
		r.Receipts = nil
	}
	if len(r.Apps) == 0 {
		r.Apps = nil
	}
	if len(r.Errors) == 0 {
		r.Errors = nil
	}
	return r
}

func checkInventory(t *testing.T, got store.StoredInventory, want protocol.InventoryReport, receivedAt time.Time) {
	t.Helper()
	w := store.StoredInventory{InventoryReport: want, ReceivedAt: receivedAt}
	if g, w := normInventory(got), normInventory(w); !reflect.DeepEqual(g, w) {
		t.Errorf("inventory =\n %+v\nwant\n %+v", g, w)
	}
}

func testInventory(t *testing.T, newStore NewStore) {
	t.Run("round trip in documented order", func(t *testing.T) {
		s := newStore(t)
		mustCreateDevice(t, s, sampleDevice("d1", at(0)))
		in := sampleInventory("d1", at(time.Hour))
		if err := s.PutInventory(ctx(t), "d1", in, at(2*time.Hour)); err != nil {
			t.Fatal(err)
		}
		got, err := s.Inventory(ctx(t), "d1")
		if err != nil {
			t.Fatal(err)
		}
		// The sample is already in the documented order.
		checkInventory(t, got, in, at(2*time.Hour))
	})

	t.Run("order does not depend on upload order", func(t *testing.T) {
		s := newStore(t)
		mustCreateDevice(t, s, sampleDevice("d1", at(0)))
		in := sampleInventory("d1", at(0))
		shuffled := in
		shuffled.Receipts = []protocol.InventoryReceipt{in.Receipts[2], in.Receipts[0], in.Receipts[1]}
		shuffled.Apps = []protocol.InventoryApp{in.Apps[1], in.Apps[0]}
		if err := s.PutInventory(ctx(t), "d1", shuffled, at(0)); err != nil {
			t.Fatal(err)
		}
		got, err := s.Inventory(ctx(t), "d1")
		if err != nil {
			t.Fatal(err)
		}
		checkInventory(t, got, in, at(0))
	})

	t.Run("replace keeps only the latest", func(t *testing.T) {
		s := newStore(t)
		mustCreateDevice(t, s, sampleDevice("d1", at(0)))
		if err := s.PutInventory(ctx(t), "d1", sampleInventory("d1", at(0)), at(0)); err != nil {
			t.Fatal(err)
		}
		next := protocol.InventoryReport{
			DeviceID: "d1", Hash: "00ff", CollectedAt: at(time.Hour), Facts: protocol.Facts{SerialNumber: "C02d1", AgentVersion: "1.71.0"},
			Receipts: []protocol.InventoryReceipt{{PackageID: "com.example.new", Version: "1", InstallPrefix: "/"}},
		}
		if err := s.PutInventory(ctx(t), "d1", next, at(time.Hour)); err != nil {
			t.Fatal(err)
		}
		got, err := s.Inventory(ctx(t), "d1")
		if err != nil {
			t.Fatal(err)
		}
		checkInventory(t, got, next, at(time.Hour))
	})

	t.Run("devices are kept apart", func(t *testing.T) {
		s := newStore(t)
		mustCreateDevice(t, s, sampleDevice("d1", at(0)))
		mustCreateDevice(t, s, sampleDevice("d2", at(0)))
		one, two := sampleInventory("d1", at(0)), sampleInventory("d2", at(time.Minute))
		two.Receipts = two.Receipts[:1]
		two.Apps = nil
		if err := s.PutInventory(ctx(t), "d1", one, at(0)); err != nil {
			t.Fatal(err)
		}
		if err := s.PutInventory(ctx(t), "d2", two, at(time.Minute)); err != nil {
			t.Fatal(err)
		}
		got, err := s.Inventory(ctx(t), "d1")
		if err != nil {
			t.Fatal(err)
		}
		checkInventory(t, got, one, at(0))
		got, err = s.Inventory(ctx(t), "d2")
		if err != nil {
			t.Fatal(err)
		}
		checkInventory(t, got, two, at(time.Minute))
	})

	t.Run("unknown device stores nothing", func(t *testing.T) {
		s := newStore(t)
		mustCreateDevice(t, s, sampleDevice("d1", at(0)))
		if err := s.PutInventory(ctx(t), "nope", sampleInventory("nope", at(0)), at(0)); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("PutInventory of an unknown device = %v, want ErrNotFound", err)
		}
		if _, err := s.Inventory(ctx(t), "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Inventory of an unknown device = %v, want ErrNotFound", err)
		}
	})

	t.Run("never reported", func(t *testing.T) {
		s := newStore(t)
		mustCreateDevice(t, s, sampleDevice("d1", at(0)))
		if _, err := s.Inventory(ctx(t), "d1"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Inventory before any upload = %v, want ErrNotFound", err)
		}
	})

	t.Run("large report", func(t *testing.T) {
		s := newStore(t)
		mustCreateDevice(t, s, sampleDevice("d1", at(0)))
		in := protocol.InventoryReport{DeviceID: "d1", Hash: "ab", CollectedAt: at(0)}
		for i := range 2000 {
			in.Receipts = append(in.Receipts, protocol.InventoryReceipt{PackageID: fmt.Sprintf("com.example.pkg%05d", i), Version: "1", InstallPrefix: "/"})
			in.Apps = append(in.Apps, protocol.InventoryApp{BundleID: fmt.Sprintf("com.example.app%05d", i), Path: fmt.Sprintf("/Applications/App %05d.app", i)})
		}
		if err := s.PutInventory(ctx(t), "d1", in, at(0)); err != nil {
			t.Fatal(err)
		}
		got, err := s.Inventory(ctx(t), "d1")
		if err != nil {
			t.Fatal(err)
		}
		checkInventory(t, got, in, at(0))
	})
}
