package store

import (
	"context"
	"time"

	"github.com/mobileatwork/mobileatwork/protocol"
)

// StoredInventory is the latest inventory a device reported.
type StoredInventory struct {
	protocol.InventoryReport
	ReceivedAt time.Time
}

// InventoryStore keeps the latest inventory of each device. Only the latest
// counts: the catalog asks "is it installed now", not "was it ever".
type InventoryStore interface {
	// PutInventory replaces the device's inventory with r, atomically. An
	// unknown device is ErrNotFound and nothing is stored.
	PutInventory(ctx context.Context, deviceID string, r protocol.InventoryReport, receivedAt time.Time) error
	// Inventory returns the device's latest inventory, receipts ordered by
	// package id, install prefix, version and then their other columns,
	// apps by path, bundle id and then their other columns (so the order
	// never depends on which rows an earlier upload kept); ErrNotFound if
	// the device never sent one.
	Inventory(ctx context.Context, deviceID string) (StoredInventory, error)
}

// App is an entry of the tenant's app catalog. It is recognised on a device
// by its PKG receipt (PackageID) or its bundle (BundleID).
type App struct {
	ID        string
	Name      string
	Kind      string // protocol.AppKindPackager, ...
	PackageID string // may be empty when BundleID is set
	BundleID  string // may be empty when PackageID is set
	// Version is the minimum version that counts as installed; empty means any.
	Version  string
	Priority bool // installed as its own onboarding stage
	// FileSHA256 and FileSize describe the PKG kept under the data
	// directory; both are empty when the catalog entry has no file.
	FileSHA256 string
	FileSize   int64
	CreatedAt  time.Time
}

// AppStore keeps the app catalog.
type AppStore interface {
	CreateApp(ctx context.Context, a App) error      // ErrExists
	App(ctx context.Context, id string) (App, error) // ErrNotFound
	Apps(ctx context.Context) ([]App, error)         // ordered by CreatedAt
	// UpdateAppPackage moves an entry to a new version and PKG, keeping
	// everything else (id, name, details, distributions); ErrNotFound.
	UpdateAppPackage(ctx context.Context, id, version, fileSHA256 string, fileSize int64) error
}
