package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

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
	err = s.tx(ctx, func(tx *sql.Tx) error {
		if err := deviceExists(ctx, tx, deviceID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `
INSERT INTO inventories (device_id, hash, collected_at, received_at, facts, errors)
VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (device_id) DO UPDATE SET
	hash = excluded.hash, collected_at = excluded.collected_at, received_at = excluded.received_at,
	facts = excluded.facts, errors = excluded.errors`,
			deviceID, r.Hash, formatTime(r.CollectedAt), formatTime(receivedAt), facts, errsJSON); err != nil {
			return err
		}
		// An upsert is an UPDATE: the cascade does not fire, so clear by hand.
		for _, q := range []string{`DELETE FROM inventory_receipts WHERE device_id = ?`, `DELETE FROM inventory_apps WHERE device_id = ?`} {
			if _, err := tx.ExecContext(ctx, q, deviceID); err != nil {
				return err
			}
		}
		rs, err := tx.PrepareContext(ctx, `
INSERT INTO inventory_receipts (device_id, package_id, version, install_date, install_prefix, install_process)
VALUES (?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer rs.Close()
		for _, rc := range r.Receipts {
			if _, err := rs.ExecContext(ctx, deviceID, rc.PackageID, rc.Version, nullTime(rc.InstallDate), rc.InstallPrefix, rc.InstallProcess); err != nil {
				return err
			}
		}
		as, err := tx.PrepareContext(ctx, `
INSERT INTO inventory_apps (device_id, bundle_id, name, version, build, path)
VALUES (?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer as.Close()
		for _, a := range r.Apps {
			if _, err := as.ExecContext(ctx, deviceID, a.BundleID, a.Name, a.Version, a.Build, a.Path); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("put inventory of %s: %w", deviceID, err)
	}
	return nil
}

// Inventory returns the device's latest inventory, or store.ErrNotFound.
func (s *Store) Inventory(ctx context.Context, deviceID string) (store.StoredInventory, error) {
	inv, err := s.inventory(ctx, deviceID)
	if err != nil {
		return store.StoredInventory{}, fmt.Errorf("get inventory of %s: %w", deviceID, err)
	}
	return inv, nil
}

func (s *Store) inventory(ctx context.Context, deviceID string) (store.StoredInventory, error) {
	// One read transaction, so the report and its rows come from one upload.
	tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return store.StoredInventory{}, err
	}
	defer tx.Rollback()
	var (
		inv                             store.StoredInventory
		collected, received, facts, ers string
	)
	err = tx.QueryRowContext(ctx, `SELECT hash, collected_at, received_at, facts, errors FROM inventories WHERE device_id = ?`, deviceID).
		Scan(&inv.Hash, &collected, &received, &facts, &ers)
	if errors.Is(err, sql.ErrNoRows) {
		return store.StoredInventory{}, store.ErrNotFound
	} else if err != nil {
		return store.StoredInventory{}, err
	}
	inv.DeviceID = deviceID
	if inv.CollectedAt, err = parseTime(collected); err != nil {
		return store.StoredInventory{}, err
	}
	if inv.ReceivedAt, err = parseTime(received); err != nil {
		return store.StoredInventory{}, err
	}
	if err := unmarshalJSON(facts, &inv.Facts); err != nil {
		return store.StoredInventory{}, err
	}
	if err := unmarshalJSON(ers, &inv.Errors); err != nil {
		return store.StoredInventory{}, err
	}
	if inv.Receipts, err = receiptRows(ctx, tx, deviceID); err != nil {
		return store.StoredInventory{}, err
	}
	if inv.Apps, err = appRows(ctx, tx, deviceID); err != nil {
		return store.StoredInventory{}, err
	}
	return inv, nil
}

func receiptRows(ctx context.Context, tx *sql.Tx, deviceID string) ([]protocol.InventoryReceipt, error) {
	rows, err := tx.QueryContext(ctx, `
SELECT package_id, version, install_date, install_prefix, install_process FROM inventory_receipts
WHERE device_id = ? ORDER BY package_id, install_prefix, version, rowid`, deviceID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []protocol.InventoryReceipt{}
	for rows.Next() {
		var (
			r    protocol.InventoryReceipt
			date sql.NullString
		)
		if err := rows.Scan(&r.PackageID, &r.Version, &date, &r.InstallPrefix, &r.InstallProcess); err != nil {
			return nil, err
		}
		if r.InstallDate, err = parseNullTime(date); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func appRows(ctx context.Context, tx *sql.Tx, deviceID string) ([]protocol.InventoryApp, error) {
	rows, err := tx.QueryContext(ctx, `
SELECT bundle_id, name, version, build, path FROM inventory_apps
WHERE device_id = ? ORDER BY path, bundle_id, rowid`, deviceID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []protocol.InventoryApp{}
	for rows.Next() {
		var a protocol.InventoryApp
		if err := rows.Scan(&a.BundleID, &a.Name, &a.Version, &a.Build, &a.Path); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}
