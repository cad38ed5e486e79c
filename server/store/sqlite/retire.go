package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/mobileatwork/mobileatwork/server/store"
)

// retireSchema is the deny list of device certificates. It is keyed by
// the certificate (the device id it names and its serial), not the device
// alone: a Mac enrolled again gets a new certificate, and the one retired
// stays refused.
const retireSchema = `
CREATE TABLE retired_certs (
	cert_serial TEXT NOT NULL,
	device_id   TEXT NOT NULL REFERENCES devices (id),
	retired_at  TEXT NOT NULL,
	retired_by  TEXT NOT NULL,
	reason      TEXT NOT NULL,
	PRIMARY KEY (device_id, cert_serial)
) WITHOUT ROWID;
`

// RetireDevice puts the device's current certificate on the deny list.
func (s *Store) RetireDevice(ctx context.Context, id string, r store.Retirement) (store.Retirement, error) {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT cert_serial FROM devices WHERE id = ?`, id).Scan(&r.CertSerial)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		} else if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `
INSERT INTO retired_certs (cert_serial, device_id, retired_at, retired_by, reason) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (device_id, cert_serial) DO NOTHING`, r.CertSerial, id, formatTime(r.At), r.By, r.Reason)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return store.ErrExists
		}
		return nil
	})
	if err != nil {
		return store.Retirement{}, fmt.Errorf("retire device %s: %w", id, err)
	}
	r.At = r.At.UTC()
	return r, nil
}
