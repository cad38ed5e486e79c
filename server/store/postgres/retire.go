package postgres

import (
	"context"
	"fmt"

	"github.com/mobileatwork/mobileatwork/server/store"
)

// retireSchema is the deny list of device certificates. It is keyed by
// the certificate (the device id it names and its serial), not the device
// alone: a Mac enrolled again gets a new certificate, and the one retired
// stays refused.
const retireSchema = `
CREATE TABLE retired_certs (
	cert_serial text COLLATE "C" NOT NULL,
	device_id   text COLLATE "C" NOT NULL REFERENCES devices (id),
	retired_at  timestamptz NOT NULL,
	retired_by  text NOT NULL,
	reason      text NOT NULL,
	PRIMARY KEY (device_id, cert_serial)
);
`

// RetireDevice puts the device's current certificate on the deny list.
func (s *Store) RetireDevice(ctx context.Context, id string, r store.Retirement) (store.Retirement, error) {
	err := s.tx(ctx, func(q db) error {
		if err := q.QueryRow(ctx, `SELECT cert_serial FROM devices WHERE id = $1 FOR SHARE`, id).Scan(&r.CertSerial); err != nil {
			return notFound(err)
		}
		tag, err := q.Exec(ctx, `
INSERT INTO retired_certs (cert_serial, device_id, retired_at, retired_by, reason) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (device_id, cert_serial) DO NOTHING`, r.CertSerial, id, r.At, r.By, r.Reason)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
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

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
