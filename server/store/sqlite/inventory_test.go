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
