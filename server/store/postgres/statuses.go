package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mobileatwork/mobileatwork/server/store"
)

const statusColumns = `config_id, device_id, version, status, detail, next_run, updated_at`

// PutStatuses upserts each status in one transaction.
func (s *Store) PutStatuses(ctx context.Context, sts []store.DeviceStatus) error {
	if len(sts) == 0 {
		return nil
	}
	err := s.tx(ctx, func(q db) error {
		for _, st := range sts {
			_, err := q.Exec(ctx, `
INSERT INTO config_status (`+statusColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (config_id, device_id) DO UPDATE SET version = excluded.version, status = excluded.status,
	detail = excluded.detail, next_run = excluded.next_run, updated_at = excluded.updated_at`,
				st.ConfigID, st.DeviceID, st.Version, st.Status, st.Detail, nullTime(st.NextRun), st.UpdatedAt)
			if isForeignKeyViolation(err) {
				return fmt.Errorf("configuration %s or device %s: %w", st.ConfigID, st.DeviceID, store.ErrNotFound)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("put statuses: %w", err)
	}
	return nil
}

// DeviceStatuses returns the device's statuses, by configuration id.
func (s *Store) DeviceStatuses(ctx context.Context, deviceID string) ([]store.DeviceStatus, error) {
	out, err := s.queryStatuses(ctx, `SELECT `+statusColumns+` FROM config_status WHERE device_id = $1 ORDER BY config_id`, deviceID)
	if err != nil {
		return nil, fmt.Errorf("statuses of device %s: %w", deviceID, err)
	}
	return out, nil
}

// ConfigStatuses returns the configuration's statuses, by device id.
func (s *Store) ConfigStatuses(ctx context.Context, configID string) ([]store.DeviceStatus, error) {
	out, err := s.queryStatuses(ctx, `SELECT `+statusColumns+` FROM config_status WHERE config_id = $1 ORDER BY device_id`, configID)
	if err != nil {
		return nil, fmt.Errorf("statuses of configuration %s: %w", configID, err)
	}
	return out, nil
}

// DeleteStatuses removes the device's statuses of the configurations given.
func (s *Store) DeleteStatuses(ctx context.Context, deviceID string, configIDs []string) error {
	if len(configIDs) == 0 {
		return nil
	}
	if _, err := s.db().Exec(ctx, `DELETE FROM config_status WHERE device_id = $1 AND config_id = ANY ($2)`, deviceID, configIDs); err != nil {
		return fmt.Errorf("delete statuses of device %s: %w", deviceID, err)
	}
	return nil
}

func (s *Store) queryStatuses(ctx context.Context, q string, args ...any) ([]store.DeviceStatus, error) {
	rows, err := s.db().Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.DeviceStatus, error) {
		var (
			st   store.DeviceStatus
			next *time.Time
		)
		if err := r.Scan(&st.ConfigID, &st.DeviceID, &st.Version, &st.Status, &st.Detail, &next, &st.UpdatedAt); err != nil {
			return st, err
		}
		st.NextRun, st.UpdatedAt = fromNull(next), st.UpdatedAt.UTC()
		return st, nil
	})
}
