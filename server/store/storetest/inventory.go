package storetest

import (
	"cmp"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
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

	t.Run("changes", func(t *testing.T) { testInventoryChanges(t, newStore) })

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

// listed is r's rows in the documented listing order: receipts by package
// id, install prefix, version, then the other columns (no date first),
// apps by path, bundle id, then the other columns.
func listed(r protocol.InventoryReport) protocol.InventoryReport {
	r.Receipts = slices.Clone(r.Receipts)
	slices.SortStableFunc(r.Receipts, func(a, b protocol.InventoryReceipt) int {
		return cmp.Or(strings.Compare(a.PackageID, b.PackageID), strings.Compare(a.InstallPrefix, b.InstallPrefix),
			strings.Compare(a.Version, b.Version), a.InstallDate.Compare(b.InstallDate), strings.Compare(a.InstallProcess, b.InstallProcess))
	})
	r.Apps = slices.Clone(r.Apps)
	slices.SortStableFunc(r.Apps, func(a, b protocol.InventoryApp) int {
		return cmp.Or(strings.Compare(a.Path, b.Path), strings.Compare(a.BundleID, b.BundleID),
			strings.Compare(a.Name, b.Name), strings.Compare(a.Version, b.Version), strings.Compare(a.Build, b.Build))
	})
	return r
}

// testInventoryChanges uploads a device's reports one after the other:
// after each, Inventory returns exactly the latest in listing order,
// whatever rows the previous ones left.
func testInventoryChanges(t *testing.T, newStore NewStore) {
	first := sampleInventory("d1", at(0))
	edit := func(f func(r *protocol.InventoryReport)) protocol.InventoryReport {
		r := first
		r.Hash = "00ff"
		r.CollectedAt = at(time.Hour)
		r.Receipts, r.Apps, r.Errors = slices.Clone(first.Receipts), slices.Clone(first.Apps), slices.Clone(first.Errors)
		f(&r)
		return r
	}
	dup := first.Receipts[1]
	// Rows that tie with first's on the sort columns.
	tie := func(process string) protocol.InventoryReceipt {
		r := first.Receipts[1]
		r.InstallProcess = process
		return r
	}
	tieApp := func(name string) protocol.InventoryApp {
		a := first.Apps[0]
		a.Name = name
		return a
	}
	tests := []struct {
		name    string
		reports []protocol.InventoryReport
	}{
		{"one version changed", []protocol.InventoryReport{first, edit(func(r *protocol.InventoryReport) { r.Receipts[0].Version = "1.71.0" })}},
		{"one app build changed", []protocol.InventoryReport{first, edit(func(r *protocol.InventoryReport) { r.Apps[0].Build = "311" })}},
		{"one install date changed", []protocol.InventoryReport{first, edit(func(r *protocol.InventoryReport) { r.Receipts[2].InstallDate = at(time.Minute) })}},
		{"one added", []protocol.InventoryReport{first, edit(func(r *protocol.InventoryReport) {
			r.Receipts = append(r.Receipts, protocol.InventoryReceipt{PackageID: "com.example.added", Version: "1", InstallPrefix: "/"})
			r.Apps = append(r.Apps, protocol.InventoryApp{BundleID: "com.example.Added", Name: "Added", Path: "/Applications/Added.app"})
		})}},
		{"one removed", []protocol.InventoryReport{first, edit(func(r *protocol.InventoryReport) {
			r.Receipts = slices.Delete(r.Receipts, 1, 2)
			r.Apps = r.Apps[1:]
		})}},
		{"everything removed, then back", []protocol.InventoryReport{first, edit(func(r *protocol.InventoryReport) { r.Receipts, r.Apps, r.Errors = nil, nil, nil }), first}},
		{"two identical receipts, then one, then two", []protocol.InventoryReport{
			edit(func(r *protocol.InventoryReport) { r.Receipts = append(r.Receipts, dup) }),
			first,
			edit(func(r *protocol.InventoryReport) { r.Receipts = append(r.Receipts, dup) }),
		}},
		{"two identical apps, then one", []protocol.InventoryReport{edit(func(r *protocol.InventoryReport) { r.Apps = append(r.Apps, r.Apps[1]) }), first}},
		{"ties on the sort columns ordered by the others, not by which came first", []protocol.InventoryReport{
			edit(func(r *protocol.InventoryReport) {
				r.Receipts = append(r.Receipts, tie("z"))
				r.Apps = append(r.Apps, tieApp("Z"))
			}),
			// Kept rows are older than added ones, yet the added sort
			// between them.
			edit(func(r *protocol.InventoryReport) {
				r.Receipts = append(r.Receipts, tie("z"), tie("a"))
				r.Apps = append(r.Apps, tieApp("Z"), tieApp("A"))
			}),
		}},
		{"rows changed under the same hash", []protocol.InventoryReport{first, edit(func(r *protocol.InventoryReport) {
			r.Hash = first.Hash // the hash is not trusted to mean the rows are the same
			r.Receipts[0].Version = "1.71.0"
			r.Apps = r.Apps[:1]
		})}},
		{"upload order changed only", []protocol.InventoryReport{first, edit(func(r *protocol.InventoryReport) {
			slices.Reverse(r.Receipts)
			slices.Reverse(r.Apps)
		})}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			mustCreateDevice(t, s, sampleDevice("d1", at(0)))
			for i, r := range tt.reports {
				received := at(time.Duration(i) * time.Hour)
				if err := s.PutInventory(ctx(t), "d1", r, received); err != nil {
					t.Fatalf("upload %d: %v", i, err)
				}
				got, err := s.Inventory(ctx(t), "d1")
				if err != nil {
					t.Fatalf("upload %d: %v", i, err)
				}
				checkInventory(t, got, listed(r), received)
			}
		})
	}

	t.Run("same report twice changes only the header", func(t *testing.T) {
		s := newStore(t)
		mustCreateDevice(t, s, sampleDevice("d1", at(0)))
		in := sampleInventory("d1", at(0))
		if err := s.PutInventory(ctx(t), "d1", in, at(time.Minute)); err != nil {
			t.Fatal(err)
		}
		// The daily upload of an unchanged Mac: same hash and rows, a new
		// collection time, and this time no unreadable file.
		again := in
		again.CollectedAt, again.Errors = at(24*time.Hour), nil
		again.Facts.AgentVersion = "1.71.0"
		if err := s.PutInventory(ctx(t), "d1", again, at(25*time.Hour)); err != nil {
			t.Fatal(err)
		}
		got, err := s.Inventory(ctx(t), "d1")
		if err != nil {
			t.Fatal(err)
		}
		checkInventory(t, got, again, at(25*time.Hour))
	})

	t.Run("unknown device refused, the others untouched", func(t *testing.T) {
		s := newStore(t)
		mustCreateDevice(t, s, sampleDevice("d1", at(0)))
		in := sampleInventory("d1", at(0))
		if err := s.PutInventory(ctx(t), "d1", in, at(0)); err != nil {
			t.Fatal(err)
		}
		// The same rows under another device id: nothing of d1's may be
		// taken for that device's.
		if err := s.PutInventory(ctx(t), "nope", in, at(time.Hour)); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("PutInventory of an unknown device = %v, want ErrNotFound", err)
		}
		if _, err := s.Inventory(ctx(t), "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Inventory of an unknown device = %v, want ErrNotFound", err)
		}
		got, err := s.Inventory(ctx(t), "d1")
		if err != nil {
			t.Fatal(err)
		}
		checkInventory(t, got, in, at(0))
	})
}
