package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// PutInventory replaces the device's latest inventory in one transaction:
// a reader sees the old report or the new one, never a mix.
func (s *Store) PutInventory(ctx context.Context, deviceID string, r protocol.InventoryReport, receivedAt time.Time) error {
	facts, err := marshalJSON(r.Facts)
	if err != nil {
		return fmt.Errorf("put inventory of %s: %w", deviceID, err)
	}
	errs := r.Errors
	if errs == nil {
		errs = []protocol.InventoryError{}
	}
	errsJSON, err := marshalJSON(errs)
	if err != nil {
		return fmt.Errorf("put inventory of %s: %w", deviceID, err)
	}
	err = s.tx(ctx, func(q db) error {
		if err := deviceExists(ctx, q, deviceID); err != nil {
			return err
		}
		// The upsert locks the device's inventory row, so two uploads of
		// one device replace the rows below one after the other.
		if _, err := q.Exec(ctx, `
INSERT INTO inventories (device_id, hash, collected_at, received_at, facts, errors)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (device_id) DO UPDATE SET
	hash = excluded.hash, collected_at = excluded.collected_at, received_at = excluded.received_at,
	facts = excluded.facts, errors = excluded.errors`,
			deviceID, r.Hash, r.CollectedAt, receivedAt, facts, errsJSON); err != nil {
			return err
		}
		for _, del := range []string{`DELETE FROM inventory_receipts WHERE device_id = $1`, `DELETE FROM inventory_apps WHERE device_id = $1`} {
			if _, err := q.Exec(ctx, del, deviceID); err != nil {
				return err
			}
		}
		b := &pgx.Batch{}
		for _, rc := range r.Receipts {
			b.Queue(`INSERT INTO inventory_receipts (device_id, package_id, version, install_date, install_prefix, install_process)
VALUES ($1, $2, $3, $4, $5, $6)`, clean([]any{deviceID, rc.PackageID, rc.Version, nullTime(rc.InstallDate), rc.InstallPrefix, rc.InstallProcess})...)
		}
		for _, a := range r.Apps {
			b.Queue(`INSERT INTO inventory_apps (device_id, bundle_id, name, version, build, path) VALUES ($1, $2, $3, $4, $5, $6)`,
				clean([]any{deviceID, a.BundleID, a.Name, a.Version, a.Build, a.Path})...)
		}
		return q.sendBatch(ctx, b)
	})
	if err != nil {
		return fmt.Errorf("put inventory of %s: %w", deviceID, err)
	}
	return nil
}

// Inventory returns the device's latest inventory, or store.ErrNotFound.
func (s *Store) Inventory(ctx context.Context, deviceID string) (store.StoredInventory, error) {
	var inv store.StoredInventory
	// One repeatable-read transaction, so the report and its rows come
	// from one upload.
	err := s.txOpts(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var facts, ers []byte
		err := tx.QueryRow(ctx, `SELECT hash, collected_at, received_at, facts, errors FROM inventories WHERE device_id = $1`, deviceID).
			Scan(&inv.Hash, &inv.CollectedAt, &inv.ReceivedAt, &facts, &ers)
		if err != nil {
			return notFound(err)
		}
		inv.DeviceID = deviceID
		inv.CollectedAt, inv.ReceivedAt = inv.CollectedAt.UTC(), inv.ReceivedAt.UTC()
		if err := unmarshalJSON(facts, &inv.Facts); err != nil {
			return err
		}
		if err := unmarshalJSON(ers, &inv.Errors); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `
SELECT package_id, version, install_date, install_prefix, install_process FROM inventory_receipts
WHERE device_id = $1 ORDER BY package_id, install_prefix, version, id`, deviceID)
		if err != nil {
			return err
		}
		if inv.Receipts, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (protocol.InventoryReceipt, error) {
			var (
				rc   protocol.InventoryReceipt
				date *time.Time
			)
			err := r.Scan(&rc.PackageID, &rc.Version, &date, &rc.InstallPrefix, &rc.InstallProcess)
			rc.InstallDate = fromNull(date)
			return rc, err
		}); err != nil {
			return err
		}
		rows, err = tx.Query(ctx, `
SELECT bundle_id, name, version, build, path FROM inventory_apps
WHERE device_id = $1 ORDER BY path, bundle_id, id`, deviceID)
		if err != nil {
			return err
		}
		inv.Apps, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (protocol.InventoryApp, error) {
			var a protocol.InventoryApp
			err := r.Scan(&a.BundleID, &a.Name, &a.Version, &a.Build, &a.Path)
			return a, err
		})
		return err
	})
	if err != nil {
		return store.StoredInventory{}, fmt.Errorf("get inventory of %s: %w", deviceID, err)
	}
	if inv.Receipts == nil {
		inv.Receipts = []protocol.InventoryReceipt{}
	}
	if inv.Apps == nil {
		inv.Apps = []protocol.InventoryApp{}
	}
	return inv, nil
}
