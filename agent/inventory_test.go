package agent

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/inventory"
	"github.com/mobileatwork/mobileatwork/inventory/invtest"
	"github.com/mobileatwork/mobileatwork/protocol"
)

func TestInventoryReportStaysWithinServerLimits(t *testing.T) {
	long := strings.Repeat("é", protocol.MaxInventoryString) // twice the limit in bytes
	rep := inventory.Report{
		Receipts: []inventory.Receipt{
			{PackageID: "com.example.ok", Version: "1.0", InstallPrefix: "/"},
			{PackageID: "com.example.long", Version: long, InstallPrefix: "/"},
		},
		Apps: []inventory.App{
			{BundleID: "com.example.ok", Name: "OK", Path: "/Applications/OK.app"},
			{BundleID: "com.example.hostile", Name: long, Path: "/Applications/Hostile.app"},
		},
		Errors: []inventory.FileError{{Path: "/Applications/Bad.app", Error: strings.Repeat("x", 3*protocol.MaxInventoryError)}},
	}
	at := time.Date(2026, 3, 14, 10, 0, 0, 0, time.FixedZone("CET", 3600))
	got := InventoryReport("dev_1", "abc", at, protocol.Facts{SerialNumber: "C02"}, rep)
	if got.DeviceID != "dev_1" || got.Hash != "abc" || !got.CollectedAt.Equal(at) || got.CollectedAt.Location() != time.UTC || got.Facts.SerialNumber != "C02" {
		t.Fatalf("header = %+v", got)
	}
	if len(got.Receipts) != 1 || got.Receipts[0].PackageID != "com.example.ok" {
		t.Errorf("receipts = %+v, want only the one within limits", got.Receipts)
	}
	if len(got.Apps) != 1 || got.Apps[0].BundleID != "com.example.ok" {
		t.Errorf("apps = %+v, want only the one within limits", got.Apps)
	}
	paths := []string{}
	for _, e := range got.Errors {
		if len(e.Error) > protocol.MaxInventoryError || len(e.Path) > protocol.MaxInventoryString {
			t.Errorf("error entry over the limits: %d, %d bytes", len(e.Path), len(e.Error))
		}
		paths = append(paths, e.Path)
	}
	want := []string{"/Applications/Bad.app", "/var/db/receipts/com.example.long.plist", "/Applications/Hostile.app"}
	if strings.Join(paths, " ") != strings.Join(want, " ") {
		t.Errorf("errors for %v, want %v", paths, want)
	}
}

func TestInventoryReportCapsCounts(t *testing.T) {
	rep := inventory.Report{Receipts: make([]inventory.Receipt, protocol.MaxInventoryItems+5)}
	for i := range rep.Receipts {
		rep.Receipts[i].PackageID = "p"
	}
	got := InventoryReport("dev_1", "abc", time.Now(), protocol.Facts{}, rep)
	if len(got.Receipts) != protocol.MaxInventoryItems {
		t.Fatalf("%d receipts, want the first %d", len(got.Receipts), protocol.MaxInventoryItems)
	}
	if len(got.Errors) != 1 || !strings.Contains(got.Errors[0].Error, "5 receipts beyond the first") {
		t.Fatalf("errors = %+v, want one saying 5 receipts were left out", got.Errors)
	}
}

// The daemon's inventory receiver keeps its collector between check-ins:
// what it uploads follows the files, and a check-in after nothing changed
// reads none of them.
func TestInventoryReceiverReadsOnlyWhatChanged(t *testing.T) {
	e := newTestEnv(t)
	root := t.TempDir()
	if err := invtest.WriteFixture(root, 20, 5); err != nil {
		t.Fatal(err)
	}
	a := e.agent(t, Options{InventoryRoot: root})
	t.Cleanup(a.Close)
	var r inventoryReceiver
	for _, rr := range a.registered() {
		if ir, ok := rr.(inventoryReceiver); ok {
			r = ir
		}
	}
	if r.c == nil {
		t.Fatal("no inventory receiver registered")
	}
	ctx := context.Background()
	stored := func() protocol.InventoryReport {
		t.Helper()
		inv, err := e.srv.Store.Inventory(ctx, a.DeviceID())
		if err != nil {
			t.Fatal(err)
		}
		return inv.InventoryReport
	}
	steps := []struct {
		name    string
		change  func(t *testing.T)
		version string // of com.example.pkg00003 on the server afterwards
	}{
		{"first check-in", func(*testing.T) {}, "1.3.0"},
		{"receipt updated", func(t *testing.T) {
			if err := invtest.WriteReceipt(root, "com.example.pkg00003", map[string]any{
				"PackageIdentifier": "com.example.pkg00003", "PackageVersion": "7.0",
			}, true); err != nil {
				t.Fatal(err)
			}
		}, "7.0"},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			s.change(t)
			if err := r.Receive(ctx, nil); err != nil {
				t.Fatalf("Receive: %v", err)
			}
			inv := stored()
			var got string
			for _, rc := range inv.Receipts {
				if rc.PackageID == "com.example.pkg00003" {
					got = rc.Version
				}
			}
			if got != s.version || len(inv.Receipts) != 20 || len(inv.Apps) != 5 {
				t.Errorf("server holds %d receipts, %d apps, version %q; want 20, 5, %q", len(inv.Receipts), len(inv.Apps), got, s.version)
			}
			// The receiver's collector is warm: nothing is read again.
			if _, stats, err := r.c.Collect(ctx); err != nil || stats.Read != 0 || stats.Files != 25 {
				t.Errorf("collection after Receive: %+v, %v; want 25 files, none read", stats, err)
			}
		})
	}
}
