package protocol

import "time"

// Limits of one inventory upload. A Mac carries a few hundred receipts and
// apps; the bounds leave two orders of magnitude of room while keeping a
// hostile or broken agent from filling the server's database.
const (
	MaxInventoryItems  = 20000 // receipts, apps and errors, each
	MaxInventoryString = 1024  // one identifier, version, name or path (PATH_MAX on macOS)
	MaxInventoryError  = 2048  // one error message
)

// InventoryReport is what the agent posts to PathInventory, gzip-compressed,
// when its inventory changed or the last upload is a day old.
type InventoryReport struct {
	DeviceID string `json:"device_id"`
	// Hash identifies the content (facts, receipts, apps) independently of
	// order; the server echoes it so the agent knows which report it holds.
	Hash        string             `json:"hash"`
	CollectedAt time.Time          `json:"collected_at"`
	Facts       Facts              `json:"facts"`
	Receipts    []InventoryReceipt `json:"receipts"`
	Apps        []InventoryApp     `json:"apps"`
	// Errors lists files that could not be read; they do not stop the rest.
	Errors []InventoryError `json:"errors"`
}

// InventoryReceipt is one installed package, from /var/db/receipts.
type InventoryReceipt struct {
	PackageID      string    `json:"package_id"`
	Version        string    `json:"version"`
	InstallDate    time.Time `json:"install_date,omitzero"`
	InstallPrefix  string    `json:"install_prefix"`
	InstallProcess string    `json:"install_process,omitempty"`
}

// InventoryApp is one application bundle.
type InventoryApp struct {
	BundleID string `json:"bundle_id"`
	Name     string `json:"name"`
	Version  string `json:"version"` // CFBundleShortVersionString
	Build    string `json:"build"`   // CFBundleVersion
	Path     string `json:"path"`
}

// InventoryError is a file the agent could not read into the report.
type InventoryError struct {
	Path  string `json:"path"`
	Error string `json:"error"`
}

// InventoryAck answers an accepted upload with the hash the server now holds.
type InventoryAck struct {
	Hash string `json:"hash"`
}
