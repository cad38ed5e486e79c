package agent

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"time"

	"go.uber.org/zap"

	"github.com/mobileatwork/mobileatwork/internal/atomicfile"
	"github.com/mobileatwork/mobileatwork/inventory"
	"github.com/mobileatwork/mobileatwork/protocol"
)

const (
	// inventoryFile records the last inventory the server acknowledged.
	inventoryFile = "inventory.json"
	// inventoryMaxAge is how long an unchanged inventory goes without being
	// sent again: the daily upload heals a server that lost or never stored
	// the report, and tells it the data is current.
	inventoryMaxAge = 24 * time.Hour
	// maxInventoryAnswer bounds the server's acknowledgement.
	maxInventoryAnswer = 64 << 10
)

// inventoryReceiver sends the inventory when it changed or is a day old.
// Its collector lives as long as the agent, so a daemon's check-ins read
// only the receipts and bundles that changed since the previous one.
type inventoryReceiver struct {
	a *Agent
	c *inventory.Collector
}

// InventoryReceiver sends the inventory when it changed or is a day old.
// Register it after ScriptsReceiver, so it sees what the scripts changed.
func InventoryReceiver(a *Agent) Receiver {
	return inventoryReceiver{a, inventory.NewCollector(inventory.Options{Root: a.o.InventoryRoot})}
}

func (inventoryReceiver) Name() string { return "inventory" }

// Receive sends the inventory, then hands the memory that took back to the
// system. Without that, the heap a check-in grew (several megabytes for a
// Mac with thousands of receipts, even when nothing changed: listings,
// the report, its hash) stays resident until the runtime's next forced
// collection, minutes later. Two collections, as what json and fmt keep in
// their pools survives the first; with a heap of two or three megabytes
// they cost about a millisecond each, once per check-in. A GOGC or memory
// limit would not help here: what remains is live.
func (r inventoryReceiver) Receive(ctx context.Context, _ *protocol.CheckinPayload) error {
	_, err := r.a.sendInventory(ctx, func(ctx context.Context) (inventory.Report, error) {
		rep, _, err := r.c.Collect(ctx)
		return rep, err
	})
	runtime.GC()
	debug.FreeOSMemory()
	return err
}

// inventoryState is the last upload the server acknowledged.
type inventoryState struct {
	Hash       string    `json:"hash"`
	UploadedAt time.Time `json:"uploaded_at"`
}

// SendInventory collects the inventory, reading every file, and uploads
// it, gzip-compressed, unless the server already acknowledged the same
// content less than a day ago. It reports whether it uploaded.
func (a *Agent) SendInventory(ctx context.Context) (bool, error) {
	return a.sendInventory(ctx, func(ctx context.Context) (inventory.Report, error) {
		return inventory.Collect(ctx, inventory.Options{Root: a.o.InventoryRoot})
	})
}

// sendInventory is SendInventory with the report collect gives: a
// daemon's collector reads only what changed since its previous one.
func (a *Agent) sendInventory(ctx context.Context, collect func(context.Context) (inventory.Report, error)) (bool, error) {
	rep, err := collect(ctx)
	if err != nil {
		return false, err
	}
	facts := a.o.Facts()
	rep.Facts = &inventory.Facts{
		SerialNumber: facts.SerialNumber, Model: facts.Model, OSVersion: facts.OSVersion,
		OSBuild: facts.OSBuild, Hostname: facts.Hostname, AgentVersion: a.o.Version,
	}
	hash := rep.Hash()
	now := a.o.Clock.Now()
	statePath := filepath.Join(a.o.StateDir, inventoryFile)
	var last inventoryState
	if err := atomicfile.ReadJSON(statePath, &last); err != nil && !errors.Is(err, fs.ErrNotExist) {
		a.o.Log.Warn("inventory state unreadable; sending the inventory again", zap.Error(err))
		last = inventoryState{}
	}
	// A clock that went backwards makes the age negative: send rather than
	// wait for the clock to catch up.
	if age := now.Sub(last.UploadedAt); last.Hash == hash && age >= 0 && age < inventoryMaxAge {
		return false, nil
	}
	facts.AgentVersion = a.o.Version
	wire := InventoryReport(a.id.DeviceID, hash, now, facts, rep)
	if _, err := a.api.SendInventory(ctx, wire); err != nil {
		return false, fmt.Errorf("send inventory: %w", err)
	}
	if err := atomicfile.WriteJSON(statePath, inventoryState{Hash: hash, UploadedAt: now.UTC()}, 0o600); err != nil {
		return true, err // sent; the next cycle sends it once more
	}
	a.o.Log.Info("inventory sent", zap.Int("receipts", len(wire.Receipts)), zap.Int("apps", len(wire.Apps)),
		zap.Int("errors", len(wire.Errors)), zap.String("hash", hash))
	return true, nil
}

// InventoryReport converts the local report into the wire form, within the
// limits the server enforces: an entry with an over-long value (a hostile
// Info.plist can hold anything) is left out and listed as an error, and an
// error message is shortened, so one bad file never gets the whole upload
// refused.
func InventoryReport(deviceID, hash string, at time.Time, facts protocol.Facts, rep inventory.Report) protocol.InventoryReport {
	out := protocol.InventoryReport{
		DeviceID: deviceID, Hash: hash, CollectedAt: at.UTC(), Facts: facts,
		Receipts: make([]protocol.InventoryReceipt, 0, len(rep.Receipts)),
		Apps:     make([]protocol.InventoryApp, 0, len(rep.Apps)),
		Errors:   []protocol.InventoryError{},
	}
	addError := func(path, msg string) {
		if len(out.Errors) < protocol.MaxInventoryItems {
			out.Errors = append(out.Errors, protocol.InventoryError{
				Path: protocol.Clip(path, protocol.MaxInventoryString), Error: protocol.Clip(msg, protocol.MaxInventoryError),
			})
		}
	}
	tooLong := func(values ...string) bool {
		for _, v := range values {
			if len(v) > protocol.MaxInventoryString {
				return true
			}
		}
		return false
	}
	for _, e := range rep.Errors {
		addError(e.Path, e.Error)
	}
	droppedReceipts, droppedApps := 0, 0
	for _, r := range rep.Receipts {
		switch {
		case tooLong(r.PackageID, r.Version, r.InstallPrefix, r.InstallProcess):
			addError("/var/db/receipts/"+r.PackageID+".plist", "receipt left out: a value is longer than the server accepts")
		case len(out.Receipts) == protocol.MaxInventoryItems:
			droppedReceipts++
		default:
			out.Receipts = append(out.Receipts, protocol.InventoryReceipt{
				PackageID: r.PackageID, Version: r.Version, InstallDate: r.InstallDate.UTC(),
				InstallPrefix: r.InstallPrefix, InstallProcess: r.InstallProcess,
			})
		}
	}
	for _, a := range rep.Apps {
		switch {
		case tooLong(a.BundleID, a.Name, a.Version, a.Build, a.Path):
			addError(a.Path, "app left out: a value in its Info.plist is longer than the server accepts")
		case len(out.Apps) == protocol.MaxInventoryItems:
			droppedApps++
		default:
			out.Apps = append(out.Apps, protocol.InventoryApp{
				BundleID: a.BundleID, Name: a.Name, Version: a.Version, Build: a.Build, Path: a.Path,
			})
		}
	}
	if droppedReceipts > 0 {
		addError("/var/db/receipts", fmt.Sprintf("%d receipts beyond the first %d left out", droppedReceipts, protocol.MaxInventoryItems))
	}
	if droppedApps > 0 {
		addError("/Applications", fmt.Sprintf("%d apps beyond the first %d left out", droppedApps, protocol.MaxInventoryItems))
	}
	return out
}
