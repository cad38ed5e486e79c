package agent

import (
	"strings"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/inventory"
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
