package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/mobileatwork/mobileatwork/server/store"
	"github.com/mobileatwork/mobileatwork/server/store/internal/rows"
)

// deliverySchema is the generation with its triggers, what each device was
// last sent, and the key envelopes sealed to devices. A trigger bumps the
// generation at every insert, update and delete of rows.GenerationTables,
// in the writer's transaction, so no write path can forget to.
func deliverySchema() string {
	var b strings.Builder
	b.WriteString(`
CREATE TABLE generation (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	n  INTEGER NOT NULL
);
INSERT INTO generation (id, n) VALUES (1, 1);

CREATE TABLE deliveries (
	device_id  TEXT PRIMARY KEY REFERENCES devices (id),
	digest     TEXT NOT NULL,
	basis      TEXT NOT NULL,
	generation INTEGER NOT NULL,
	refresh_at TEXT,
	sent_at    TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE key_envelopes (
	device_id      TEXT NOT NULL REFERENCES devices (id),
	config_id      TEXT NOT NULL REFERENCES configurations (id) ON DELETE CASCADE,
	config_version INTEGER NOT NULL,
	blob_sha256    TEXT NOT NULL,
	cert_serial    TEXT NOT NULL,
	envelope       BLOB NOT NULL,
	created_at     TEXT NOT NULL,
	PRIMARY KEY (device_id, config_id)
);
CREATE INDEX key_envelopes_config ON key_envelopes (config_id);

-- Reaching a catalog app or a profile is looked up by target, as for
-- configurations.
CREATE INDEX app_distributions_reach ON app_distributions (target, target_id);
CREATE INDEX profile_targets_reach ON profile_targets (kind, value);
`)
	bump := " BEGIN UPDATE generation SET n = n + 1 WHERE id = 1; END;\n"
	for _, t := range rows.GenerationTables {
		for _, op := range []string{"INSERT", "UPDATE", "DELETE"} {
			fmt.Fprintf(&b, "CREATE TRIGGER %s_generation_%s AFTER %s ON %s%s", t, strings.ToLower(op), op, t, bump)
		}
	}
	// A user's name reaches payloads as an input variable; a user added
	// without one (at enrollment) changes no payload.
	b.WriteString("CREATE TRIGGER users_generation_insert AFTER INSERT ON users WHEN NEW.name <> ''" + bump)
	b.WriteString("CREATE TRIGGER users_generation_update AFTER UPDATE ON users WHEN OLD.name IS NOT NEW.name" + bump)
	b.WriteString("CREATE TRIGGER users_generation_delete AFTER DELETE ON users" + bump)
	return b.String()
}

// Generation reads the counter the triggers bump.
func (s *Store) Generation(ctx context.Context) (int64, error) {
	var n int64
	if err := s.read.QueryRowContext(keyRead(ctx), `SELECT n FROM generation WHERE id = 1`).Scan(&n); err != nil {
		return 0, fmt.Errorf("read generation: %w", err)
	}
	return n, nil
}

var deliveryCheckSQL = rows.DeliveryCheckSelect("?")

// DeliveryCheck reads the generation, the device's delivery and the marks
// of its statuses in one statement: a row with the generation and the
// delivery (NULL when there is none), and one row per status.
func (s *Store) DeliveryCheck(ctx context.Context, deviceID string) (store.DeliveryCheck, error) {
	rs, err := s.read.QueryContext(keyRead(ctx), deliveryCheckSQL, deviceID, deviceID)
	if err != nil {
		return store.DeliveryCheck{}, fmt.Errorf("delivery of device %s: %w", deviceID, err)
	}
	defer rs.Close()
	var chk store.DeliveryCheck
	for rs.Next() {
		var (
			part                         int
			n, gen, version              sql.NullInt64
			digest, basis, refresh, sent sql.NullString
			config, status, detail       sql.NullString
		)
		if err := rs.Scan(&part, &n, &digest, &basis, &gen, &refresh, &sent, &config, &version, &status, &detail); err != nil {
			return store.DeliveryCheck{}, fmt.Errorf("delivery of device %s: %w", deviceID, err)
		}
		if part == 1 {
			chk.Marks = append(chk.Marks, store.StatusMark{ConfigID: config.String, Version: int(version.Int64), Status: status.String, Detail: detail.String})
			continue
		}
		if chk.Generation = n.Int64; !digest.Valid {
			continue
		}
		chk.Delivery = store.Delivery{DeviceID: deviceID, Digest: digest.String, Basis: basis.String, Generation: gen.Int64}
		if chk.Delivery.RefreshAt, err = parseNullTime(refresh); err == nil {
			chk.Delivery.SentAt, err = parseTime(sent.String)
		}
		if err != nil {
			return store.DeliveryCheck{}, fmt.Errorf("delivery of device %s: %w", deviceID, err)
		}
	}
	if err := rs.Err(); err != nil {
		return store.DeliveryCheck{}, fmt.Errorf("delivery of device %s: %w", deviceID, err)
	}
	rows.SortMarks(chk.Marks)
	return chk, nil
}

// PutDelivery replaces what the device was last sent. It goes through the
// group-commit writer: every full check-in writes one.
func (s *Store) PutDelivery(ctx context.Context, d store.Delivery) error {
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `
INSERT INTO deliveries (device_id, digest, basis, generation, refresh_at, sent_at) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (device_id) DO UPDATE SET digest = excluded.digest, basis = excluded.basis,
	generation = excluded.generation, refresh_at = excluded.refresh_at, sent_at = excluded.sent_at`,
			d.DeviceID, d.Digest, d.Basis, d.Generation, nullTime(d.RefreshAt), formatTime(d.SentAt))
		return err
	})
	if isForeignKeyViolation(err) {
		err = store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("put delivery of device %s: %w", d.DeviceID, err)
	}
	return nil
}

// KeyEnvelopes returns the envelopes sealed to the device.
func (s *Store) KeyEnvelopes(ctx context.Context, deviceID string) ([]store.KeyEnvelope, error) {
	rows, err := s.read.QueryContext(ctx, `
SELECT config_id, config_version, blob_sha256, cert_serial, envelope, created_at
FROM key_envelopes WHERE device_id = ? ORDER BY config_id`, deviceID)
	if err != nil {
		return nil, fmt.Errorf("key envelopes of device %s: %w", deviceID, err)
	}
	defer rows.Close()
	var out []store.KeyEnvelope
	for rows.Next() {
		e := store.KeyEnvelope{DeviceID: deviceID}
		var created string
		if err := rows.Scan(&e.ConfigID, &e.ConfigVersion, &e.BlobSHA256, &e.CertSerial, &e.Envelope, &created); err != nil {
			return nil, fmt.Errorf("key envelopes of device %s: %w", deviceID, err)
		}
		if e.CreatedAt, err = parseTime(created); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("key envelopes of device %s: %w", deviceID, err)
	}
	return out, nil
}

// PutKeyEnvelopes stores envelopes, replacing those of the same device and
// configuration.
func (s *Store) PutKeyEnvelopes(ctx context.Context, envs []store.KeyEnvelope) error {
	if len(envs) == 0 {
		return nil
	}
	// Through the group-commit writer, as PutDelivery: both follow a full
	// check-in.
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, `
INSERT INTO key_envelopes (device_id, config_id, config_version, blob_sha256, cert_serial, envelope, created_at)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (device_id, config_id) DO UPDATE SET config_version = excluded.config_version,
	blob_sha256 = excluded.blob_sha256, cert_serial = excluded.cert_serial, envelope = excluded.envelope,
	created_at = excluded.created_at`)
		if err != nil {
			return fmt.Errorf("put key envelopes: %w", err)
		}
		defer st.Close()
		for _, e := range envs {
			_, err := st.ExecContext(ctx, e.DeviceID, e.ConfigID, e.ConfigVersion, e.BlobSHA256, e.CertSerial, e.Envelope, formatTime(e.CreatedAt))
			if isForeignKeyViolation(err) {
				err = store.ErrNotFound
			}
			if err != nil {
				return fmt.Errorf("put key envelope of %s for %s: %w", e.ConfigID, e.DeviceID, err)
			}
		}
		return nil
	})
}
