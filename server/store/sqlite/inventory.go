package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/store"
	"github.com/mobileatwork/mobileatwork/server/store/internal/rows"
)

// PutInventory replaces the device's latest inventory in one transaction:
// a reader sees the old report or the new one, never a mix. Only what
// changed is written: the header, and the rows the new report lacks or
// adds (see syncRows).
func (s *Store) PutInventory(ctx context.Context, deviceID string, r protocol.InventoryReport, receivedAt time.Time) error {
	h, err := newInventoryHeader(r, receivedAt)
	if err != nil {
		return fmt.Errorf("put inventory of %s: %w", deviceID, err)
	}
	receipts, apps := rows.Receipts(r.Receipts, nil), rows.Apps(r.Apps, nil)
	err = s.tx(ctx, func(tx *sql.Tx) error {
		if err := h.put(ctx, tx, deviceID); err != nil {
			return err
		}
		if err := syncRows(ctx, tx, deviceID, receiptTable, receipts); err != nil {
			return err
		}
		return syncRows(ctx, tx, deviceID, appTable, apps)
	})
	if err != nil {
		return fmt.Errorf("put inventory of %s: %w", deviceID, err)
	}
	return nil
}

// inventoryHeader is the inventories row of an upload, encoded.
type inventoryHeader struct {
	hash, collected, received, facts, errors string
}

func newInventoryHeader(r protocol.InventoryReport, receivedAt time.Time) (inventoryHeader, error) {
	h := inventoryHeader{hash: r.Hash, collected: formatTime(r.CollectedAt), received: formatTime(receivedAt)}
	errs := r.Errors
	if errs == nil {
		errs = []protocol.InventoryError{}
	}
	var err error
	if h.facts, err = marshalJSON(r.Facts); err != nil {
		return h, err
	}
	h.errors, err = marshalJSON(errs)
	return h, err
}

// put stores the header of a known device's inventory, ErrNotFound for an
// unknown device.
func (h inventoryHeader) put(ctx context.Context, tx *sql.Tx, deviceID string) error {
	if err := deviceExists(ctx, tx, deviceID); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `
INSERT INTO inventories (device_id, hash, collected_at, received_at, facts, errors)
VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (device_id) DO UPDATE SET
	hash = excluded.hash, collected_at = excluded.collected_at, received_at = excluded.received_at,
	facts = excluded.facts, errors = excluded.errors`,
		deviceID, h.hash, h.collected, h.received, h.facts, h.errors)
	return err
}

// inventoryTable is one table of a device's inventory rows.
type inventoryTable[T comparable] struct {
	name, cols string // cols: the content columns, as scan and args take them
	// order sorts in listing order: content columns, then rowid, which only
	// orders identical rows. The diff does without the sort.
	order string
	scan  func(*sql.Rows) (T, int64, error) // rowid, then cols
	args  func(T) []any
}

var receiptTable = inventoryTable[protocol.InventoryReceipt]{
	name:  "inventory_receipts",
	cols:  rows.ReceiptColumns,
	order: "package_id, install_prefix, version, install_date, install_process, rowid",
	scan: func(rs *sql.Rows) (r protocol.InventoryReceipt, rowid int64, err error) {
		var date sql.NullString
		if err = rs.Scan(&rowid, &r.PackageID, &r.Version, &date, &r.InstallPrefix, &r.InstallProcess); err == nil {
			r.InstallDate, err = parseNullTime(date)
		}
		return r, rowid, err
	},
	args: func(r protocol.InventoryReceipt) []any { return rows.ReceiptArgs(r, nullTime) },
}

var appTable = inventoryTable[protocol.InventoryApp]{
	name:  "inventory_apps",
	cols:  rows.AppColumns,
	order: "path, bundle_id, name, version, build, rowid",
	scan: func(rs *sql.Rows) (a protocol.InventoryApp, rowid int64, err error) {
		err = rs.Scan(&rowid, &a.BundleID, &a.Name, &a.Version, &a.Build, &a.Path)
		return a, rowid, err
	},
	args: rows.AppArgs,
}

// read returns the device's rows of t and their rowids, in listing order
// when sorted.
func (t inventoryTable[T]) read(ctx context.Context, tx *sql.Tx, deviceID string, sorted bool) ([]T, []int64, error) {
	q := `SELECT rowid, ` + t.cols + ` FROM ` + t.name + ` WHERE device_id = ?`
	if sorted {
		q += ` ORDER BY ` + t.order
	}
	rs, err := tx.QueryContext(ctx, q, deviceID)
	if err != nil {
		return nil, nil, err
	}
	defer rs.Close()
	out, ids := []T{}, []int64(nil)
	for rs.Next() {
		v, id, err := t.scan(rs)
		if err != nil {
			return nil, nil, err
		}
		out, ids = append(out, v), append(ids, id)
	}
	return out, ids, rs.Err()
}

// syncRows makes the device's rows of t the multiset want (as
// rows.Receipts or rows.Apps made it): rows matching a wanted tuple stay,
// the others are deleted and the wanted tuples left over inserted. The
// report's hash is not trusted to skip this: the rows are always read and
// matched, since reading them costs a small part of writing them, and an
// unchanged report then writes no row.
func syncRows[T comparable](ctx context.Context, tx *sql.Tx, deviceID string, t inventoryTable[T], want []T) error {
	have, ids, err := t.read(ctx, tx, deviceID, false)
	if err != nil {
		return err
	}
	del, ins := rows.Match(have, want)
	err = execEach(ctx, tx, `DELETE FROM `+t.name+` WHERE rowid = ?`, len(del), func(i int) []any { return []any{ids[del[i]]} })
	if err != nil {
		return err
	}
	add := make([]T, len(ins))
	for i, w := range ins {
		add[i] = want[w]
	}
	return insertRows(ctx, tx, deviceID, t, add)
}

// insertRows inserts rs as the device's rows of t.
func insertRows[T comparable](ctx context.Context, tx *sql.Tx, deviceID string, t inventoryTable[T], rs []T) error {
	insert := `INSERT INTO ` + t.name + ` (device_id, ` + t.cols + `) VALUES (?` + strings.Repeat(`, ?`, strings.Count(t.cols, ",")+1) + `)`
	return execEach(ctx, tx, insert, len(rs), func(i int) []any { return append([]any{deviceID}, t.args(rs[i])...) })
}

// execEach runs query n times with the arguments args gives, prepared once.
func execEach(ctx context.Context, tx *sql.Tx, query string, n int, args func(i int) []any) error {
	if n == 0 {
		return nil
	}
	st, err := tx.PrepareContext(ctx, query)
	if err != nil {
		return err
	}
	defer st.Close()
	for i := range n {
		if _, err := st.ExecContext(ctx, args(i)...); err != nil {
			return err
		}
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
	if inv.Receipts, _, err = receiptTable.read(ctx, tx, deviceID, true); err != nil {
		return store.StoredInventory{}, err
	}
	if inv.Apps, _, err = appTable.read(ctx, tx, deviceID, true); err != nil {
		return store.StoredInventory{}, err
	}
	return inv, nil
}
