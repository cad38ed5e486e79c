package postgres

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mobileatwork/mobileatwork/server/store"
	"github.com/mobileatwork/mobileatwork/server/store/internal/rows"
)

// deviceColumns are read FROM deviceRows: a device with its certificate's
// entry on the deny list, when there is one.
const (
	deviceColumns = `d.id, d.facts, d."user", d.groups, d.capabilities, d.agent_version, d.cert_serial, d.enrolled_at, d.last_checkin, d.left_at, d.recent_log,
d.cert_not_after, d.pending_serial, d.pending_not_after, r.retired_at, r.retired_by, r.reason`
	deviceRows = `devices d LEFT JOIN retired_certs r ON r.device_id = d.id AND r.cert_serial = d.cert_serial`
)

// CreateDevice stores a newly enrolled device; an existing id is
// store.ErrExists. LastCheckin and Left are stored as given.
func (s *Store) CreateDevice(ctx context.Context, d store.Device) error {
	facts, err := marshalJSON(d.Facts)
	if err != nil {
		return fmt.Errorf("create device %s: %w", d.ID, err)
	}
	groups, err := marshalJSON(nonNil(d.Groups))
	if err != nil {
		return fmt.Errorf("create device %s: %w", d.ID, err)
	}
	caps, err := marshalJSON(nonNil(d.Capabilities))
	if err != nil {
		return fmt.Errorf("create device %s: %w", d.ID, err)
	}
	var leftAt any
	if d.Left {
		// Device has no leaving time; enrollment time is the best we know.
		leftAt = d.EnrolledAt
	}
	tag, err := s.db().Exec(ctx, `
INSERT INTO devices (id, serial, facts, "user", groups, capabilities, agent_version, cert_serial, enrolled_at, last_checkin, left_at,
	cert_not_after, pending_serial, pending_not_after)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
ON CONFLICT (id) DO NOTHING`,
		d.ID, d.Facts.SerialNumber, facts, d.User, groups, caps, d.AgentVersion, d.CertSerial,
		d.EnrolledAt, nullTime(d.LastCheckin), leftAt, nullTime(d.CertNotAfter), d.PendingSerial, nullTime(d.PendingNotAfter))
	if err != nil {
		return fmt.Errorf("create device %s: %w", d.ID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("create device %s: %w", d.ID, store.ErrExists)
	}
	return nil
}

// Device returns the device with this id, or store.ErrNotFound.
func (s *Store) Device(ctx context.Context, id string) (store.Device, error) {
	d, err := scanDevice(s.db().QueryRow(ctx, `SELECT `+deviceColumns+` FROM `+deviceRows+` WHERE d.id = $1`, id))
	if err != nil {
		return store.Device{}, fmt.Errorf("get device %s: %w", id, notFound(err))
	}
	return d, nil
}

// Devices returns every device, the earliest enrolled first.
func (s *Store) Devices(ctx context.Context) ([]store.Device, error) {
	rows, err := s.db().Query(ctx, `SELECT `+deviceColumns+` FROM `+deviceRows+` ORDER BY d.enrolled_at, d.id`)
	if err != nil {
		return nil, fmt.Errorf("list devices: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Device, error) { return scanDevice(r) })
	if err != nil {
		return nil, fmt.Errorf("list devices: %w", err)
	}
	return out, nil
}

// RecordCheckin updates what the device reported and returns the agent
// version it had before. The row is locked while read, so two concurrent
// check-ins of one device (on two replicas) each see the version the
// other one replaced.
func (s *Store) RecordCheckin(ctx context.Context, id string, c store.Checkin) (string, error) {
	enc, err := rows.EncodeCheckin(c, marshalJSON)
	if err != nil {
		return "", fmt.Errorf("record check-in of device %s: %w", id, err)
	}
	var prev string
	err = s.tx(ctx, func(q db) error {
		if err := q.QueryRow(ctx, `SELECT agent_version FROM devices WHERE id = $1 FOR UPDATE`, id).Scan(&prev); err != nil {
			return notFound(err)
		}
		_, err := q.Exec(ctx, `
UPDATE devices SET serial = $1, facts = $2, capabilities = $3, agent_version = $4, last_checkin = $5, recent_log = $6
WHERE id = $7`,
			c.Facts.SerialNumber, enc.Facts, enc.Capabilities, c.Facts.AgentVersion, c.At, enc.RecentLog, id)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("record check-in of device %s: %w", id, err)
	}
	return prev, nil
}

// TouchCheckins records the times of check-ins that reported nothing new,
// in one statement. Replicas touch the same rows: taking the later time
// makes the order of their batches irrelevant, and locking the rows in id
// order keeps two batches from deadlocking.
func (s *Store) TouchCheckins(ctx context.Context, seen map[string]time.Time) error {
	if len(seen) == 0 {
		return nil
	}
	ids := slices.Sorted(maps.Keys(seen))
	ats := make([]time.Time, len(ids))
	for i, id := range ids {
		ats[i] = seen[id]
	}
	err := s.tx(ctx, func(q db) error {
		_, err := q.Exec(ctx, `
WITH seen AS (SELECT * FROM unnest($1::text[], $2::timestamptz[]) AS t(id, at)),
locked AS (SELECT d.id FROM devices d JOIN seen USING (id) ORDER BY d.id FOR UPDATE OF d)
UPDATE devices d SET last_checkin = seen.at FROM seen, locked
WHERE d.id = seen.id AND locked.id = d.id AND (d.last_checkin IS NULL OR d.last_checkin < seen.at)`, ids, ats)
		return err
	})
	if err != nil {
		return fmt.Errorf("record check-in times of %d devices: %w", len(seen), err)
	}
	return nil
}

// SetDeviceGroups replaces the groups of the device.
func (s *Store) SetDeviceGroups(ctx context.Context, id string, groups []string) error {
	g, err := marshalJSON(nonNil(groups))
	if err != nil {
		return fmt.Errorf("set groups of device %s: %w", id, err)
	}
	if err := rowsAffected(s.db().Exec(ctx, `UPDATE devices SET groups = $1 WHERE id = $2`, g, id)); err != nil {
		return fmt.Errorf("set groups of device %s: %w", id, err)
	}
	return nil
}

// MarkDeviceLeft records that the device uninstalled the agent. Marking it
// again keeps the first time it left.
func (s *Store) MarkDeviceLeft(ctx context.Context, id string, at time.Time) error {
	if err := rowsAffected(s.db().Exec(ctx, `UPDATE devices SET left_at = COALESCE(left_at, $1) WHERE id = $2`, at, id)); err != nil {
		return fmt.Errorf("mark device left %s: %w", id, err)
	}
	return nil
}

// SetPendingCert records a renewed certificate awaiting its first use.
func (s *Store) SetPendingCert(ctx context.Context, id, serial string, notAfter time.Time) error {
	if err := rowsAffected(s.db().Exec(ctx, `UPDATE devices SET pending_serial = $1, pending_not_after = $2 WHERE id = $3`,
		serial, notAfter, id)); err != nil {
		return fmt.Errorf("set pending certificate of device %s: %w", id, err)
	}
	return nil
}

// ConfirmCert promotes the pending certificate with this serial, in one
// conditional update (see the SQLite backend).
func (s *Store) ConfirmCert(ctx context.Context, id, serial string) error {
	if serial == "" {
		return fmt.Errorf("confirm certificate of device %s: %w", id, store.ErrNotFound)
	}
	if err := rowsAffected(s.db().Exec(ctx, `
UPDATE devices SET cert_serial = pending_serial, cert_not_after = pending_not_after, pending_serial = '', pending_not_after = NULL
WHERE id = $1 AND pending_serial = $2`, id, serial)); err != nil {
		return fmt.Errorf("confirm certificate of device %s: %w", id, err)
	}
	return nil
}

func scanDevice(r pgx.Row) (store.Device, error) {
	var (
		d                              store.Device
		facts, groups, caps, recentLog []byte
		lastCheckin, leftAt, retiredAt *time.Time
		notAfter, pendingNotAfter      *time.Time
		by, reason                     *string
	)
	if err := r.Scan(&d.ID, &facts, &d.User, &groups, &caps, &d.AgentVersion, &d.CertSerial,
		&d.EnrolledAt, &lastCheckin, &leftAt, &recentLog, &notAfter, &d.PendingSerial, &pendingNotAfter, &retiredAt, &by, &reason); err != nil {
		return store.Device{}, err
	}
	for _, f := range []struct {
		b []byte
		v any
	}{{facts, &d.Facts}, {groups, &d.Groups}, {caps, &d.Capabilities}, {recentLog, &d.RecentLog}} {
		if err := unmarshalJSON(f.b, f.v); err != nil {
			return store.Device{}, err
		}
	}
	if len(d.RecentLog) == 0 {
		d.RecentLog = nil
	}
	d.Groups, d.Capabilities = stringsOrNil(d.Groups), stringsOrNil(d.Capabilities)
	d.EnrolledAt, d.LastCheckin, d.Left = d.EnrolledAt.UTC(), fromNull(lastCheckin), leftAt != nil
	d.CertNotAfter, d.PendingNotAfter = fromNull(notAfter), fromNull(pendingNotAfter)
	if retiredAt != nil {
		d.Retired = &store.Retirement{CertSerial: d.CertSerial, At: retiredAt.UTC(), By: deref(by), Reason: deref(reason)}
	}
	return d, nil
}

// deviceExists is ErrNotFound for an unknown device. FOR SHARE keeps the
// device from being removed before the write that follows commits.
func deviceExists(ctx context.Context, q db, id string) error {
	var one int
	return notFound(q.QueryRow(ctx, `SELECT 1 FROM devices WHERE id = $1 FOR SHARE`, id).Scan(&one))
}
