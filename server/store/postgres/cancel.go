package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mobileatwork/mobileatwork/server/store"
)

// cancelSchema adds what `config cancel` and `stop-scripts` keep: the
// versions withdrawn from devices, and the brakes on scripts, one per
// device and the tenant's under device id ”.
const cancelSchema = `
CREATE TABLE cancellations (
	config_id    text COLLATE "C" NOT NULL REFERENCES configurations (id) ON DELETE CASCADE,
	device_id    text COLLATE "C" NOT NULL REFERENCES devices (id),
	version      integer NOT NULL,
	cancelled_at timestamptz NOT NULL,
	PRIMARY KEY (device_id, config_id)
);
CREATE INDEX cancellations_config ON cancellations (config_id);

CREATE TABLE scripts_stops (
	device_id  text COLLATE "C" PRIMARY KEY,
	reason     text NOT NULL,
	stopped_at timestamptz NOT NULL
);
`

// CancelRuns records cancellations and their statuses in one transaction.
func (s *Store) CancelRuns(ctx context.Context, configID string, expires time.Time, cs []store.Cancellation, sts []store.DeviceStatus) error {
	err := s.tx(ctx, func(q db) error {
		// Only a new expiry touches the configuration (and so the
		// generation): a cancel on some devices changes their statuses alone.
		if expires.IsZero() {
			var one int
			if err := notFound(q.QueryRow(ctx, `SELECT 1 FROM configurations WHERE id = $1 FOR SHARE`, configID).Scan(&one)); err != nil {
				return fmt.Errorf("configuration %s: %w", configID, err)
			}
		} else if err := rowsAffected(q.Exec(ctx, `UPDATE configurations SET expires_at = $1 WHERE id = $2`, expires, configID)); err != nil {
			return fmt.Errorf("configuration %s: %w", configID, err)
		}
		for _, c := range cs {
			_, err := q.Exec(ctx, `
INSERT INTO cancellations (config_id, device_id, version, cancelled_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (device_id, config_id) DO UPDATE SET version = excluded.version, cancelled_at = excluded.cancelled_at`,
				configID, c.DeviceID, c.Version, c.At)
			if isForeignKeyViolation(err) {
				return fmt.Errorf("device %s: %w", c.DeviceID, store.ErrNotFound)
			}
			if err != nil {
				return err
			}
		}
		for _, st := range sts {
			_, err := q.Exec(ctx, `
INSERT INTO config_status (`+statusColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (config_id, device_id) DO UPDATE SET version = excluded.version, status = excluded.status,
	detail = excluded.detail, next_run = excluded.next_run, updated_at = excluded.updated_at`,
				configID, st.DeviceID, st.Version, st.Status, st.Detail, nullTime(st.NextRun), st.UpdatedAt)
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
	rows, err := s.db().Query(ctx, `SELECT config_id, version, cancelled_at FROM cancellations WHERE device_id = $1 ORDER BY config_id`, deviceID)
	if err != nil {
		return nil, fmt.Errorf("cancellations of device %s: %w", deviceID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Cancellation, error) {
		c := store.Cancellation{DeviceID: deviceID}
		err := r.Scan(&c.ConfigID, &c.Version, &c.At)
		c.At = c.At.UTC()
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("cancellations of device %s: %w", deviceID, err)
	}
	return out, nil
}

// bumpGeneration grows the generation in q's transaction: the brake
// changes what payloads say, and no trigger watches its table.
func bumpGeneration(ctx context.Context, q db) error {
	_, err := q.Exec(ctx, `UPDATE generation SET n = n + 1 WHERE id = 1`)
	return err
}

// StopScripts records the stops and grows the generation.
func (s *Store) StopScripts(ctx context.Context, stops []store.ScriptsStop) error {
	if len(stops) == 0 {
		return nil
	}
	err := s.tx(ctx, func(q db) error {
		for _, st := range stops {
			if st.DeviceID != "" {
				if err := deviceExists(ctx, q, st.DeviceID); err != nil {
					return fmt.Errorf("device %s: %w", st.DeviceID, err)
				}
			}
			if _, err := q.Exec(ctx, `
INSERT INTO scripts_stops (device_id, reason, stopped_at) VALUES ($1, $2, $3)
ON CONFLICT (device_id) DO UPDATE SET reason = excluded.reason, stopped_at = excluded.stopped_at`,
				st.DeviceID, st.Reason, st.At); err != nil {
				return err
			}
		}
		return bumpGeneration(ctx, q)
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
	err := s.tx(ctx, func(q db) error {
		tag, err := q.Exec(ctx, `DELETE FROM scripts_stops WHERE device_id = ANY($1::text[])`, deviceIDs)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		return bumpGeneration(ctx, q)
	})
	if err != nil {
		return fmt.Errorf("resume scripts: %w", err)
	}
	return nil
}

// ScriptsStops returns the stops in force.
func (s *Store) ScriptsStops(ctx context.Context, deviceIDs ...string) ([]store.ScriptsStop, error) {
	var (
		rows pgx.Rows
		err  error
	)
	if len(deviceIDs) > 0 {
		rows, err = s.db().Query(ctx, `SELECT device_id, reason, stopped_at FROM scripts_stops WHERE device_id = ANY($1::text[]) ORDER BY device_id`, deviceIDs)
	} else {
		rows, err = s.db().Query(ctx, `SELECT device_id, reason, stopped_at FROM scripts_stops ORDER BY device_id`)
	}
	if err != nil {
		return nil, fmt.Errorf("scripts stops: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.ScriptsStop, error) {
		var st store.ScriptsStop
		err := r.Scan(&st.DeviceID, &st.Reason, &st.At)
		st.At = st.At.UTC()
		return st, err
	})
	if err != nil {
		return nil, fmt.Errorf("scripts stops: %w", err)
	}
	return out, nil
}
