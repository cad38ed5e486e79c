package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/mobileatwork/mobileatwork/server/store"
	"github.com/mobileatwork/mobileatwork/server/store/internal/rows"
)

// deviceColumns are read FROM deviceRows: a device with its certificate's
// entry on the deny list, when there is one.
const (
	deviceColumns = `d.id, d.facts, d.user, d.groups, d.capabilities, d.agent_version, d.cert_serial, d.enrolled_at, d.last_checkin, d.left_at, d.recent_log,
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
		leftAt = formatTime(d.EnrolledAt)
	}
	res, err := s.db.ExecContext(ctx, `
INSERT INTO devices (id, serial, facts, user, groups, capabilities, agent_version, cert_serial, enrolled_at, last_checkin, left_at,
	cert_not_after, pending_serial, pending_not_after)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO NOTHING`,
		d.ID, d.Facts.SerialNumber, facts, d.User, groups, caps, d.AgentVersion, d.CertSerial,
		formatTime(d.EnrolledAt), nullTime(d.LastCheckin), leftAt,
		nullTime(d.CertNotAfter), d.PendingSerial, nullTime(d.PendingNotAfter))
	if err != nil {
		return fmt.Errorf("create device %s: %w", d.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("create device %s: %w", d.ID, err)
	} else if n == 0 {
		return fmt.Errorf("create device %s: %w", d.ID, store.ErrExists)
	}
	return nil
}

// Device returns the device with this id, or store.ErrNotFound.
func (s *Store) Device(ctx context.Context, id string) (store.Device, error) {
	row := s.read.QueryRowContext(keyRead(ctx), `SELECT `+deviceColumns+` FROM `+deviceRows+` WHERE d.id = ?`, id)
	d, err := scanDevice(row)
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Device{}, fmt.Errorf("get device %s: %w", id, err)
	}
	return d, nil
}

// Devices returns every device, the earliest enrolled first.
func (s *Store) Devices(ctx context.Context) ([]store.Device, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+deviceColumns+` FROM `+deviceRows+` ORDER BY d.enrolled_at, d.id`)
	if err != nil {
		return nil, fmt.Errorf("list devices: %w", err)
	}
	defer rows.Close()
	var out []store.Device
	for rows.Next() {
		d, err := scanDevice(rows)
		if err != nil {
			return nil, fmt.Errorf("list devices: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list devices: %w", err)
	}
	return out, nil
}

// RecordCheckin updates what the device reported and returns the agent
// version it had before. Reading the old version and writing the new one
// happen in one write transaction, so two concurrent check-ins of the same
// device each see the version the other one replaced. It is a group commit
// of the writer: a check-in shares its fsync with the others of the moment.
func (s *Store) RecordCheckin(ctx context.Context, id string, c store.Checkin) (string, error) {
	enc, err := rows.EncodeCheckin(c, marshalJSON)
	if err != nil {
		return "", fmt.Errorf("record check-in of device %s: %w", id, err)
	}
	var prev string
	err = s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT agent_version FROM devices WHERE id = ?`, id).Scan(&prev)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `
UPDATE devices SET serial = ?, facts = ?, capabilities = ?, agent_version = ?, last_checkin = ?, recent_log = ?
WHERE id = ?`,
			c.Facts.SerialNumber, enc.Facts, enc.Capabilities, c.Facts.AgentVersion, formatTime(c.At), enc.RecentLog, id)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("record check-in of device %s: %w", id, err)
	}
	return prev, nil
}

// TouchCheckins records the times of check-ins that reported nothing new,
// in one write. Times compare as text: the layout is fixed-width UTC.
func (s *Store) TouchCheckins(ctx context.Context, seen map[string]time.Time) error {
	if len(seen) == 0 {
		return nil
	}
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, `
UPDATE devices SET last_checkin = ?1 WHERE id = ?2 AND (last_checkin IS NULL OR last_checkin < ?1)`)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, id := range slices.Sorted(maps.Keys(seen)) {
			if _, err := st.ExecContext(ctx, formatTime(seen[id]), id); err != nil {
				return err
			}
		}
		return nil
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
	return s.updateDevice(ctx, "set groups of device", id, `UPDATE devices SET groups = ? WHERE id = ?`, g, id)
}

// MarkDeviceLeft records that the device uninstalled the agent. Marking it
// again keeps the first time it left.
func (s *Store) MarkDeviceLeft(ctx context.Context, id string, at time.Time) error {
	return s.updateDevice(ctx, "mark device left", id,
		`UPDATE devices SET left_at = COALESCE(left_at, ?) WHERE id = ?`, formatTime(at), id)
}

// SetPendingCert records a renewed certificate awaiting its first use.
func (s *Store) SetPendingCert(ctx context.Context, id, serial string, notAfter time.Time) error {
	return s.updateDevice(ctx, "set pending certificate of device", id,
		`UPDATE devices SET pending_serial = ?, pending_not_after = ? WHERE id = ?`, serial, formatTime(notAfter), id)
}

// ConfirmCert promotes the pending certificate with this serial. The
// condition on pending_serial makes it one step: of two concurrent
// requests with the new certificate, one promotes and the other finds it
// current already.
func (s *Store) ConfirmCert(ctx context.Context, id, serial string) error {
	if serial == "" {
		return fmt.Errorf("confirm certificate of device %s: %w", id, store.ErrNotFound)
	}
	return s.updateDevice(ctx, "confirm certificate of device", id, `
UPDATE devices SET cert_serial = pending_serial, cert_not_after = pending_not_after, pending_serial = '', pending_not_after = NULL
WHERE id = ? AND pending_serial = ?`, id, serial)
}

// updateDevice runs an UPDATE of one device row and turns "no row" into
// store.ErrNotFound.
func (s *Store) updateDevice(ctx context.Context, what, id, query string, args ...any) error {
	res, err := s.db.ExecContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("%s %s: %w", what, id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s %s: %w", what, id, err)
	}
	if n == 0 {
		return fmt.Errorf("%s %s: %w", what, id, store.ErrNotFound)
	}
	return nil
}

// scanner is what *sql.Row and *sql.Rows have in common.
type scanner interface {
	Scan(dest ...any) error
}

func scanDevice(r scanner) (store.Device, error) {
	var (
		d                          store.Device
		facts, groups, caps, enrAt string
		lastCheckin, leftAt        sql.NullString
		recentLog                  string
		retiredAt, by, reason      sql.NullString
		notAfter, pendingNotAfter  sql.NullString
	)
	if err := r.Scan(&d.ID, &facts, &d.User, &groups, &caps, &d.AgentVersion, &d.CertSerial,
		&enrAt, &lastCheckin, &leftAt, &recentLog, &notAfter, &d.PendingSerial, &pendingNotAfter, &retiredAt, &by, &reason); err != nil {
		return store.Device{}, err
	}
	if err := unmarshalJSON(recentLog, &d.RecentLog); err != nil {
		return store.Device{}, err
	}
	if len(d.RecentLog) == 0 {
		d.RecentLog = nil
	}
	if err := unmarshalJSON(facts, &d.Facts); err != nil {
		return store.Device{}, err
	}
	if err := unmarshalJSON(groups, &d.Groups); err != nil {
		return store.Device{}, err
	}
	if err := unmarshalJSON(caps, &d.Capabilities); err != nil {
		return store.Device{}, err
	}
	d.Groups, d.Capabilities = stringsOrNil(d.Groups), stringsOrNil(d.Capabilities)
	var err error
	if d.EnrolledAt, err = parseTime(enrAt); err != nil {
		return store.Device{}, err
	}
	if d.LastCheckin, err = parseNullTime(lastCheckin); err != nil {
		return store.Device{}, err
	}
	if d.CertNotAfter, err = parseNullTime(notAfter); err != nil {
		return store.Device{}, err
	}
	if d.PendingNotAfter, err = parseNullTime(pendingNotAfter); err != nil {
		return store.Device{}, err
	}
	d.Left = leftAt.Valid
	if retiredAt.Valid {
		at, err := parseTime(retiredAt.String)
		if err != nil {
			return store.Device{}, err
		}
		d.Retired = &store.Retirement{CertSerial: d.CertSerial, At: at, By: by.String, Reason: reason.String}
	}
	return d, nil
}

// nonNil makes a nil list encode as [] rather than null.
func nonNil(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

// deviceExists is ErrNotFound for an unknown device, inside tx so that the
// write that follows cannot race the device's creation.
func deviceExists(ctx context.Context, tx *sql.Tx, id string) error {
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM devices WHERE id = ?`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	return err
}
