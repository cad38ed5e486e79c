package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/mobileatwork/mobileatwork/server/store"
)

const statusColumns = `config_id, device_id, version, status, detail, next_run, updated_at`

// PutStatuses upserts each status, all or none, in a group commit.
func (s *Store) PutStatuses(ctx context.Context, sts []store.DeviceStatus) error {
	if len(sts) == 0 {
		return nil
	}
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		for _, st := range sts {
			_, err := tx.ExecContext(ctx, `
INSERT INTO config_status (`+statusColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (config_id, device_id) DO UPDATE SET version = excluded.version, status = excluded.status,
	detail = excluded.detail, next_run = excluded.next_run, updated_at = excluded.updated_at`,
				st.ConfigID, st.DeviceID, st.Version, st.Status, st.Detail, nullTime(st.NextRun), formatTime(st.UpdatedAt))
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
	out, err := s.queryStatuses(ctx, `SELECT `+statusColumns+` FROM config_status WHERE device_id = ? ORDER BY config_id`, deviceID)
	if err != nil {
		return nil, fmt.Errorf("statuses of device %s: %w", deviceID, err)
	}
	return out, nil
}

// ConfigStatuses returns the configuration's statuses, by device id.
func (s *Store) ConfigStatuses(ctx context.Context, configID string) ([]store.DeviceStatus, error) {
	out, err := s.queryStatuses(ctx, `SELECT `+statusColumns+` FROM config_status WHERE config_id = ? ORDER BY device_id`, configID)
	if err != nil {
		return nil, fmt.Errorf("statuses of configuration %s: %w", configID, err)
	}
	return out, nil
}

// DeleteStatuses removes the device's statuses of the configurations
// given, in a group commit.
func (s *Store) DeleteStatuses(ctx context.Context, deviceID string, configIDs []string) error {
	if len(configIDs) == 0 {
		return nil
	}
	args := []any{deviceID}
	for _, id := range configIDs {
		args = append(args, id)
	}
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM config_status WHERE device_id = ? AND config_id IN (?`+
			strings.Repeat(", ?", len(configIDs)-1)+`)`, args...)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete statuses of device %s: %w", deviceID, err)
	}
	return nil
}

func (s *Store) queryStatuses(ctx context.Context, q string, args ...any) ([]store.DeviceStatus, error) {
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.DeviceStatus
	for rows.Next() {
		var (
			st      store.DeviceStatus
			next    sql.NullString
			updated string
		)
		if err := rows.Scan(&st.ConfigID, &st.DeviceID, &st.Version, &st.Status, &st.Detail, &next, &updated); err != nil {
			return nil, err
		}
		if st.NextRun, err = parseNullTime(next); err != nil {
			return nil, err
		}
		if st.UpdatedAt, err = parseTime(updated); err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, rows.Err()
}
