package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mobileatwork/mobileatwork/server/store"
)

// cancelSchema adds what `config cancel` and `stop-scripts` keep: the
// versions withdrawn from devices, and the brakes on scripts, one per
// device and the tenant's under device id ”.
const cancelSchema = `
CREATE TABLE cancellations (
	config_id    TEXT NOT NULL REFERENCES configurations (id) ON DELETE CASCADE,
	device_id    TEXT NOT NULL REFERENCES devices (id),
	version      INTEGER NOT NULL,
	cancelled_at TEXT NOT NULL,
	PRIMARY KEY (device_id, config_id)
) WITHOUT ROWID;
CREATE INDEX cancellations_config ON cancellations (config_id);

CREATE TABLE scripts_stops (
	device_id  TEXT PRIMARY KEY,
	reason     TEXT NOT NULL,
	stopped_at TEXT NOT NULL
) WITHOUT ROWID;
`

// CancelRuns records cancellations and their statuses in one transaction.
func (s *Store) CancelRuns(ctx context.Context, configID string, expires time.Time, cs []store.Cancellation, sts []store.DeviceStatus) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		// Only a new expiry touches the configuration (and so the
		// generation): a cancel on some devices changes their statuses alone.
		if expires.IsZero() {
			var one int
			err := tx.QueryRowContext(ctx, `SELECT 1 FROM configurations WHERE id = ?`, configID).Scan(&one)
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("configuration %s: %w", configID, store.ErrNotFound)
			} else if err != nil {
				return err
			}
		} else {
			res, err := tx.ExecContext(ctx, `UPDATE configurations SET expires_at = ? WHERE id = ?`, formatTime(expires), configID)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n == 0 {
				return fmt.Errorf("configuration %s: %w", configID, store.ErrNotFound)
			}
		}
		for _, c := range cs {
			_, err := tx.ExecContext(ctx, `
INSERT INTO cancellations (config_id, device_id, version, cancelled_at) VALUES (?, ?, ?, ?)
ON CONFLICT (device_id, config_id) DO UPDATE SET version = excluded.version, cancelled_at = excluded.cancelled_at`,
				configID, c.DeviceID, c.Version, formatTime(c.At))
			if isForeignKeyViolation(err) {
				return fmt.Errorf("device %s: %w", c.DeviceID, store.ErrNotFound)
			}
			if err != nil {
				return err
			}
		}
		for _, st := range sts {
			_, err := tx.ExecContext(ctx, `
INSERT INTO config_status (`+statusColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (config_id, device_id) DO UPDATE SET version = excluded.version, status = excluded.status,
	detail = excluded.detail, next_run = excluded.next_run, updated_at = excluded.updated_at`,
				configID, st.DeviceID, st.Version, st.Status, st.Detail, nullTime(st.NextRun), formatTime(st.UpdatedAt))
			if isForeignKeyViolation(err) {
				return fmt.Errorf("device %s: %w", st.DeviceID, store.ErrNotFound)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("cancel runs of %s: %w", configID, err)
	}
	return nil
}

// Cancellations returns the device's cancellations.
func (s *Store) Cancellations(ctx context.Context, deviceID string) ([]store.Cancellation, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT config_id, version, cancelled_at FROM cancellations WHERE device_id = ? ORDER BY config_id`, deviceID)
	if err != nil {
		return nil, fmt.Errorf("cancellations of device %s: %w", deviceID, err)
	}
	defer rows.Close()
	var out []store.Cancellation
	for rows.Next() {
		c := store.Cancellation{DeviceID: deviceID}
		var at string
		if err := rows.Scan(&c.ConfigID, &c.Version, &at); err != nil {
			return nil, fmt.Errorf("cancellations of device %s: %w", deviceID, err)
		}
		if c.At, err = parseTime(at); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cancellations of device %s: %w", deviceID, err)
	}
	return out, nil
}

// bumpGeneration grows the generation in tx: the brake changes what
// payloads say, and no trigger watches its table.
func bumpGeneration(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, `UPDATE generation SET n = n + 1 WHERE id = 1`)
	return err
}

// StopScripts records the stops and grows the generation.
func (s *Store) StopScripts(ctx context.Context, stops []store.ScriptsStop) error {
	if len(stops) == 0 {
		return nil
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		for _, st := range stops {
			if st.DeviceID != "" {
				var one int
				err := tx.QueryRowContext(ctx, `SELECT 1 FROM devices WHERE id = ?`, st.DeviceID).Scan(&one)
				if errors.Is(err, sql.ErrNoRows) {
					return fmt.Errorf("device %s: %w", st.DeviceID, store.ErrNotFound)
				} else if err != nil {
					return err
				}
			}
			if _, err := tx.ExecContext(ctx, `
INSERT INTO scripts_stops (device_id, reason, stopped_at) VALUES (?, ?, ?)
ON CONFLICT (device_id) DO UPDATE SET reason = excluded.reason, stopped_at = excluded.stopped_at`,
				st.DeviceID, st.Reason, formatTime(st.At)); err != nil {
				return err
			}
		}
		return bumpGeneration(ctx, tx)
	})
	if err != nil {
		return fmt.Errorf("stop scripts: %w", err)
	}
	return nil
}

// ResumeScripts removes stops and grows the generation when one went.
func (s *Store) ResumeScripts(ctx context.Context, deviceIDs []string) error {
	if len(deviceIDs) == 0 {
		return nil
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM scripts_stops WHERE device_id IN (?`+strings.Repeat(", ?", len(deviceIDs)-1)+`)`, anys(deviceIDs)...)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		return bumpGeneration(ctx, tx)
	})
	if err != nil {
		return fmt.Errorf("resume scripts: %w", err)
	}
	return nil
}

// ScriptsStops returns the stops in force.
func (s *Store) ScriptsStops(ctx context.Context, deviceIDs ...string) ([]store.ScriptsStop, error) {
	q := `SELECT device_id, reason, stopped_at FROM scripts_stops`
	if len(deviceIDs) > 0 {
		q += ` WHERE device_id IN (?` + strings.Repeat(", ?", len(deviceIDs)-1) + `)`
	}
	rows, err := s.read.QueryContext(ctx, q+` ORDER BY device_id`, anys(deviceIDs)...)
	if err != nil {
		return nil, fmt.Errorf("scripts stops: %w", err)
	}
	defer rows.Close()
	var out []store.ScriptsStop
	for rows.Next() {
		var st store.ScriptsStop
		var at string
		if err := rows.Scan(&st.DeviceID, &st.Reason, &at); err != nil {
			return nil, fmt.Errorf("scripts stops: %w", err)
		}
		if st.At, err = parseTime(at); err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("scripts stops: %w", err)
	}
	return out, nil
}

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
