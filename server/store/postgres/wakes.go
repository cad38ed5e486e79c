package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mobileatwork/mobileatwork/server/store"
)

// wakesSchema adds the expiry of run-now configurations (NULL: never) and
// the pending wakes. Every replica reads the wakes every few hundred
// milliseconds through the expiry index, which keeps that read cheap
// however many wakes expired unpurged.
const wakesSchema = `
ALTER TABLE configurations ADD COLUMN expires_at timestamptz;

CREATE TABLE wakes (
	device_id    text COLLATE "C" PRIMARY KEY,
	requested_at timestamptz NOT NULL,
	expires_at   timestamptz NOT NULL
);
CREATE INDEX wakes_expires_at ON wakes (expires_at);
`

// RequestWakes records a wake per device in one statement.
func (s *Store) RequestWakes(ctx context.Context, deviceIDs []string, at, expires time.Time) error {
	if len(deviceIDs) == 0 {
		return nil
	}
	_, err := s.db().Exec(ctx, `
INSERT INTO wakes (device_id, requested_at, expires_at) SELECT id, $2, $3 FROM unnest($1::text[]) AS id
ON CONFLICT (device_id) DO UPDATE SET requested_at = excluded.requested_at, expires_at = excluded.expires_at`,
		deviceIDs, at, expires)
	if err != nil {
		return fmt.Errorf("request wakes: %w", err)
	}
	return nil
}

// PendingWakes lists the wakes not expired at now.
func (s *Store) PendingWakes(ctx context.Context, now time.Time) ([]store.Wake, error) {
	rows, err := s.db().Query(ctx, `SELECT device_id, requested_at, expires_at FROM wakes WHERE expires_at > $1 ORDER BY device_id`, now)
	if err != nil {
		return nil, fmt.Errorf("pending wakes: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Wake, error) {
		var w store.Wake
		err := r.Scan(&w.DeviceID, &w.RequestedAt, &w.ExpiresAt)
		w.RequestedAt, w.ExpiresAt = w.RequestedAt.UTC(), w.ExpiresAt.UTC()
		return w, err
	})
	if err != nil {
		return nil, fmt.Errorf("pending wakes: %w", err)
	}
	return out, nil
}

// DeleteWake removes a delivered wake.
func (s *Store) DeleteWake(ctx context.Context, deviceID string, requestedAt time.Time) error {
	if _, err := s.db().Exec(ctx, `DELETE FROM wakes WHERE device_id = $1 AND requested_at <= $2`, deviceID, requestedAt); err != nil {
		return fmt.Errorf("delete wake of %s: %w", deviceID, err)
	}
	return nil
}

// PurgeWakes deletes the expired wakes.
func (s *Store) PurgeWakes(ctx context.Context, now time.Time) (int, error) {
	tag, err := s.db().Exec(ctx, `DELETE FROM wakes WHERE expires_at <= $1`, now)
	if err != nil {
		return 0, fmt.Errorf("purge wakes: %w", err)
	}
	return int(tag.RowsAffected()), nil
}
