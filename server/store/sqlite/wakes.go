package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/mobileatwork/mobileatwork/server/store"
)

// wakesSchema adds the expiry of run-now configurations (NULL: never) and
// the pending wakes. Each serving process reads the wakes every few
// hundred milliseconds through the expiry index, which keeps that read
// cheap however many wakes expired unpurged.
const wakesSchema = `
ALTER TABLE configurations ADD COLUMN expires_at TEXT;

CREATE TABLE wakes (
	device_id    TEXT PRIMARY KEY,
	requested_at TEXT NOT NULL,
	expires_at   TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX wakes_expires_at ON wakes (expires_at);
`

// RequestWakes records a wake per device in one transaction.
func (s *Store) RequestWakes(ctx context.Context, deviceIDs []string, at, expires time.Time) error {
	if len(deviceIDs) == 0 {
		return nil
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, `
INSERT INTO wakes (device_id, requested_at, expires_at) VALUES (?, ?, ?)
ON CONFLICT (device_id) DO UPDATE SET requested_at = excluded.requested_at, expires_at = excluded.expires_at`)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, id := range deviceIDs {
			if _, err := st.ExecContext(ctx, id, formatTime(at), formatTime(expires)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("request wakes: %w", err)
	}
	return nil
}

// PendingWakes lists the wakes not expired at now.
func (s *Store) PendingWakes(ctx context.Context, now time.Time) ([]store.Wake, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT device_id, requested_at, expires_at FROM wakes WHERE expires_at > ? ORDER BY device_id`, formatTime(now))
	if err != nil {
		return nil, fmt.Errorf("pending wakes: %w", err)
	}
	defer rows.Close()
	var out []store.Wake
	for rows.Next() {
		var w store.Wake
		var req, exp string
		if err := rows.Scan(&w.DeviceID, &req, &exp); err != nil {
			return nil, fmt.Errorf("pending wakes: %w", err)
		}
		if w.RequestedAt, err = parseTime(req); err != nil {
			return nil, err
		}
		if w.ExpiresAt, err = parseTime(exp); err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pending wakes: %w", err)
	}
	return out, nil
}

// DeleteWake removes a delivered wake in the next group commit.
func (s *Store) DeleteWake(ctx context.Context, deviceID string, requestedAt time.Time) error {
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM wakes WHERE device_id = ? AND requested_at <= ?`, deviceID, formatTime(requestedAt))
		return err
	})
	if err != nil {
		return fmt.Errorf("delete wake of %s: %w", deviceID, err)
	}
	return nil
}

// PurgeWakes deletes the expired wakes.
func (s *Store) PurgeWakes(ctx context.Context, now time.Time) (int, error) {
	var n int64
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM wakes WHERE expires_at <= ?`, formatTime(now))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("purge wakes: %w", err)
	}
	return int(n), nil
}
