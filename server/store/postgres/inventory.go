package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/store"
	"github.com/mobileatwork/mobileatwork/server/store/internal/rows"
)

// PutInventory replaces the device's latest inventory in one transaction:
// a reader sees the old report or the new one, never a mix. Only what
// changed is written: the header, and the rows the new report lacks or
// adds (see syncRows).
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
	receipts, apps := rows.Receipts(r.Receipts, text), rows.Apps(r.Apps, text)
	err = s.tx(ctx, func(q db) error {
		if err := deviceExists(ctx, q, deviceID); err != nil {
			return err
		}
		// The upsert locks the device's inventory row, so two uploads of
		// one device read and change the rows below one after the other.
		if _, err := q.Exec(ctx, `
INSERT INTO inventories (device_id, hash, collected_at, received_at, facts, errors)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (device_id) DO UPDATE SET
	hash = excluded.hash, collected_at = excluded.collected_at, received_at = excluded.received_at,
	facts = excluded.facts, errors = excluded.errors`,
			deviceID, r.Hash, r.CollectedAt, receivedAt, facts, errsJSON); err != nil {
			return err
		}
		b := &pgx.Batch{}
		if err := syncRows(ctx, q, b, deviceID, receiptTable, receipts); err != nil {
			return err
		}
		if err := syncRows(ctx, q, b, deviceID, appTable, apps); err != nil {
			return err
		}
		if b.Len() == 0 {
			return nil
		}
		return q.sendBatch(ctx, b)
	})
	if err != nil {
		return fmt.Errorf("put inventory of %s: %w", deviceID, err)
	}
	return nil
}

// inventoryTable is one table of a device's inventory rows.
type inventoryTable[T comparable] struct {
	name, cols string // cols: the content columns, as scan and args take them
	// order sorts in listing order: content columns, then id, which only
	// orders identical rows. Text compares byte by byte and NULL comes
	// first, as in SQLite.
	order string
	scan  func(pgx.CollectableRow) (T, int64, error) // id, then cols
	args  func(T) []any
}

var receiptTable = inventoryTable[protocol.InventoryReceipt]{
	name:  "inventory_receipts",
	cols:  rows.ReceiptColumns,
	order: `package_id, install_prefix, version, install_date NULLS FIRST, install_process COLLATE "C", id`,
	scan: func(r pgx.CollectableRow) (rc protocol.InventoryReceipt, id int64, err error) {
		var date *time.Time
		err = r.Scan(&id, &rc.PackageID, &rc.Version, &date, &rc.InstallPrefix, &rc.InstallProcess)
		rc.InstallDate = fromNull(date)
		return rc, id, err
	},
	args: func(rc protocol.InventoryReceipt) []any { return rows.ReceiptArgs(rc, nullTime) },
}

var appTable = inventoryTable[protocol.InventoryApp]{
	name:  "inventory_apps",
	cols:  rows.AppColumns,
	order: `path, bundle_id, name COLLATE "C", version COLLATE "C", build COLLATE "C", id`,
	scan: func(r pgx.CollectableRow) (a protocol.InventoryApp, id int64, err error) {
		err = r.Scan(&id, &a.BundleID, &a.Name, &a.Version, &a.Build, &a.Path)
		return a, id, err
	},
	args: rows.AppArgs,
}

// insert is the statement inserting one row of t.
func (t inventoryTable[T]) insert() string {
	n := strings.Count(t.cols, ",") + 1
	var ps strings.Builder
	for i := range n {
		fmt.Fprintf(&ps, ", $%d", i+2)
	}
	return `INSERT INTO ` + t.name + ` (device_id, ` + t.cols + `) VALUES ($1` + ps.String() + `)`
}

// rowQuerier is what a transaction and db have in common for reading.
type rowQuerier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// read returns the device's rows of t and their ids, in listing order.
func (t inventoryTable[T]) read(ctx context.Context, q rowQuerier, deviceID string) ([]T, []int64, error) {
	rs, err := q.Query(ctx, `SELECT id, `+t.cols+` FROM `+t.name+` WHERE device_id = $1 ORDER BY `+t.order, deviceID)
	if err != nil {
		return nil, nil, err
	}
	var ids []int64
	out, err := pgx.CollectRows(rs, func(r pgx.CollectableRow) (T, error) {
		v, id, err := t.scan(r)
		ids = append(ids, id)
		return v, err
	})
	if out == nil {
		out = []T{}
	}
	return out, ids, err
}

// syncRows queues on b what makes the device's rows of t the multiset
// want (as rows.Receipts or rows.Apps made it): rows matching a wanted
// tuple stay, the others are deleted and the wanted tuples left over
// inserted. The report's hash is not trusted to skip this: the rows are
// always read and matched, since reading them costs a small part of
// writing them, and an unchanged report then writes no row.
func syncRows[T comparable](ctx context.Context, q db, b *pgx.Batch, deviceID string, t inventoryTable[T], want []T) error {
	have, ids, err := t.read(ctx, q, deviceID)
	if err != nil {
		return err
	}
	del, ins := rows.Match(have, want)
	if len(del) > 0 {
		gone := make([]int64, len(del))
		for i, d := range del {
			gone[i] = ids[d]
		}
		b.Queue(`DELETE FROM `+t.name+` WHERE id = ANY($1)`, gone)
	}
	insert := t.insert()
	for _, i := range ins {
		b.Queue(insert, clean(append([]any{deviceID}, t.args(want[i])...))...)
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
		if inv.Receipts, _, err = receiptTable.read(ctx, tx, deviceID); err != nil {
			return err
		}
		inv.Apps, _, err = appTable.read(ctx, tx, deviceID)
		return err
	})
	if err != nil {
		return store.StoredInventory{}, fmt.Errorf("get inventory of %s: %w", deviceID, err)
	}
	return inv, nil
}
