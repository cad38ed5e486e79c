package sqlite

import (
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// TestUpgradeAddsInventory opens a database made by a server that predates
// inventory: the upgrade keeps its devices and lets them report.
func TestUpgradeAddsInventory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "maw.db")
	if err := ensurePrivateFile(path); err != nil {
		t.Fatal(err)
	}
	old, err := sql.Open("sqlite", dsn(path, connWrite))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{migrations[0].sql, "PRAGMA user_version = 1",
		`INSERT INTO devices (id, enrolled_at) VALUES ('d1', '` + formatTime(t0) + `')`} {
		if _, err := old.ExecContext(t.Context(), q); err != nil {
			t.Fatalf("%.40s: %v", q, err)
		}
	}
	old.Close()

	s := openTemp(t, path)
	if v := schemaVersion(t, s); v != len(migrations) {
		t.Fatalf("user_version = %d after upgrade, want %d", v, len(migrations))
	}
	if _, err := s.Device(t.Context(), "d1"); err != nil {
		t.Fatalf("device lost in the upgrade: %v", err)
	}
	r := protocol.InventoryReport{DeviceID: "d1", Hash: "ab", CollectedAt: t0,
		Receipts: []protocol.InventoryReceipt{{PackageID: "com.example.tools", Version: "1", InstallPrefix: "/"}}}
	if err := s.PutInventory(t.Context(), "d1", r, t0); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateApp(t.Context(), store.App{ID: "a1", Name: "Tools", Kind: protocol.AppKindInHouse, PackageID: "com.example.tools", CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
}

// TestPutInventoryWritesOnlyChanges checks that an upload keeps the rows
// it shares with the stored report, by their rowids: a changed version
// replaces one receipt, the same report again replaces none.
func TestPutInventoryWritesOnlyChanges(t *testing.T) {
	s := openTemp(t, filepath.Join(t.TempDir(), "maw.db"))
	if err := s.CreateDevice(t.Context(), store.Device{ID: "d1", EnrolledAt: t0}); err != nil {
		t.Fatal(err)
	}
	rowids := func() map[int64]bool {
		t.Helper()
		rs, err := s.db.QueryContext(t.Context(), `SELECT rowid FROM inventory_receipts UNION ALL SELECT -rowid FROM inventory_apps`)
		if err != nil {
			t.Fatal(err)
		}
		defer rs.Close()
		ids := map[int64]bool{}
		for rs.Next() {
			var id int64
			if err := rs.Scan(&id); err != nil {
				t.Fatal(err)
			}
			ids[id] = true
		}
		return ids
	}
	r := benchInventory(20, 10)
	tests := []struct {
		name    string
		edit    func(r *protocol.InventoryReport)
		changed int // rowids gone, as many new
	}{
		{"first upload", func(*protocol.InventoryReport) {}, 0},
		{"same report", func(*protocol.InventoryReport) {}, 0},
		{"one version", func(r *protocol.InventoryReport) { r.Receipts[3].Version = "9" }, 1},
		{"one receipt and one app", func(r *protocol.InventoryReport) { r.Receipts[4].Version, r.Apps[2].Build = "9", "9" }, 2},
	}
	for _, tt := range tests {
		before := rowids()
		tt.edit(&r)
		if err := s.PutInventory(t.Context(), "d1", r, t0); err != nil {
			t.Fatal(err)
		}
		after := rowids()
		gone := 0
		for id := range before {
			if !after[id] {
				gone++
			}
		}
		if len(after) != 30 || (len(before) > 0 && gone != tt.changed) {
			t.Errorf("%s: %d rows, %d replaced; want 30, %d", tt.name, len(after), gone, tt.changed)
		}
	}
}
