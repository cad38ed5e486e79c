package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mobileatwork/mobileatwork/server/store"
	"github.com/mobileatwork/mobileatwork/server/store/internal/rows"
)

// deliverySchema is the generation with its triggers, what each device was
// last sent, the key envelopes sealed to devices, and the reach indexes of
// the catalog and the onboarding plan. As in the SQLite backend, triggers
// bump the generation at every change to rows.GenerationTables, in the
// changing statement's transaction, so no write path can forget to.
//
// The counter is one row that every admin write updates, so concurrent
// admin writes queue on it until commit; check-ins read it and never
// write it. Statement triggers see the rows changed (transition tables),
// so a statement that changed nothing (an upsert that found its row, a
// delete that matched none) bumps nothing and one that changed a thousand
// rows bumps once. A user's name reaches payloads as an input variable: a
// user added without one (at enrollment) changes no payload, hence row
// triggers with a condition for users.
func deliverySchema() string {
	var b strings.Builder
	b.WriteString(`
CREATE TABLE generation (
	id integer PRIMARY KEY CHECK (id = 1),
	n  bigint NOT NULL
);
INSERT INTO generation (id, n) VALUES (1, 1);

CREATE FUNCTION generation_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE generation SET n = n + 1 WHERE id = 1;
	RETURN NULL;
END $$;

-- For statement triggers whose transition table is named changed.
CREATE FUNCTION generation_bump_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF EXISTS (SELECT 1 FROM changed) THEN
		UPDATE generation SET n = n + 1 WHERE id = 1;
	END IF;
	RETURN NULL;
END $$;

CREATE TABLE deliveries (
	device_id  text PRIMARY KEY REFERENCES devices (id),
	digest     text NOT NULL,
	basis      text NOT NULL,
	generation bigint NOT NULL,
	refresh_at timestamptz,
	sent_at    timestamptz NOT NULL
);

CREATE TABLE key_envelopes (
	device_id      text COLLATE "C" NOT NULL REFERENCES devices (id),
	config_id      text COLLATE "C" NOT NULL REFERENCES configurations (id) ON DELETE CASCADE,
	config_version integer NOT NULL,
	blob_sha256    text NOT NULL,
	cert_serial    text NOT NULL,
	envelope       bytea NOT NULL,
	created_at     timestamptz NOT NULL,
	PRIMARY KEY (device_id, config_id)
);
CREATE INDEX key_envelopes_config ON key_envelopes (config_id);

-- Reaching a catalog app or a profile is looked up by target, as for
-- configurations.
CREATE INDEX app_distributions_reach ON app_distributions (target, target_id);
CREATE INDEX profile_targets_reach ON profile_targets (kind, value);
`)
	for _, t := range rows.GenerationTables {
		for _, op := range []struct{ name, table string }{{"INSERT", "NEW"}, {"UPDATE", "NEW"}, {"DELETE", "OLD"}} {
			fmt.Fprintf(&b, "CREATE TRIGGER %s_generation_%s AFTER %s ON %s REFERENCING %s TABLE AS changed\n\tFOR EACH STATEMENT EXECUTE FUNCTION generation_bump_changed();\n",
				t, strings.ToLower(op.name), op.name, t, op.table)
		}
	}
	b.WriteString(`CREATE TRIGGER users_generation_insert AFTER INSERT ON users
	FOR EACH ROW WHEN (NEW.name <> '') EXECUTE FUNCTION generation_bump();
CREATE TRIGGER users_generation_update AFTER UPDATE ON users
	FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name) EXECUTE FUNCTION generation_bump();
CREATE TRIGGER users_generation_delete AFTER DELETE ON users
	FOR EACH ROW EXECUTE FUNCTION generation_bump();
`)
	return b.String()
}

// Generation reads the counter the triggers bump.
func (s *Store) Generation(ctx context.Context) (int64, error) {
	var n int64
	if err := s.db().QueryRow(ctx, `SELECT n FROM generation WHERE id = 1`).Scan(&n); err != nil {
		return 0, fmt.Errorf("read generation: %w", err)
	}
	return n, nil
}

var deliveryCheckSQL = rows.DeliveryCheckSelect("$1")

// DeliveryCheck reads the generation, the device's delivery and the marks
// of its statuses in one statement: a row with the generation and the
// delivery (NULL when there is none), and one row per status.
func (s *Store) DeliveryCheck(ctx context.Context, deviceID string) (store.DeliveryCheck, error) {
	rs, err := s.db().Query(ctx, deliveryCheckSQL, deviceID)
	if err != nil {
		return store.DeliveryCheck{}, fmt.Errorf("delivery of device %s: %w", deviceID, err)
	}
	defer rs.Close()
	var chk store.DeliveryCheck
	for rs.Next() {
		var (
			part                                  int
			n, gen                                *int64
			digest, basis, config, status, detail *string
			version                               *int
			refresh, sent                         *time.Time
		)
		if err := rs.Scan(&part, &n, &digest, &basis, &gen, &refresh, &sent, &config, &version, &status, &detail); err != nil {
			return store.DeliveryCheck{}, fmt.Errorf("delivery of device %s: %w", deviceID, err)
		}
		switch {
		case part == 1:
			chk.Marks = append(chk.Marks, store.StatusMark{ConfigID: *config, Version: *version, Status: *status, Detail: *detail})
		case n != nil:
			chk.Generation = *n
			if digest != nil {
				chk.Delivery = store.Delivery{DeviceID: deviceID, Digest: *digest, Basis: *basis, Generation: *gen,
					RefreshAt: fromNull(refresh), SentAt: fromNull(sent)}
			}
		}
	}
	if err := rs.Err(); err != nil {
		return store.DeliveryCheck{}, fmt.Errorf("delivery of device %s: %w", deviceID, err)
	}
	rows.SortMarks(chk.Marks)
	return chk, nil
}

// PutDelivery replaces what the device was last sent.
func (s *Store) PutDelivery(ctx context.Context, d store.Delivery) error {
	_, err := s.db().Exec(ctx, `
INSERT INTO deliveries (device_id, digest, basis, generation, refresh_at, sent_at) VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (device_id) DO UPDATE SET digest = excluded.digest, basis = excluded.basis,
	generation = excluded.generation, refresh_at = excluded.refresh_at, sent_at = excluded.sent_at`,
		d.DeviceID, d.Digest, d.Basis, d.Generation, nullTime(d.RefreshAt), d.SentAt)
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
	rows, err := s.db().Query(ctx, `
SELECT config_id, config_version, blob_sha256, cert_serial, envelope, created_at
FROM key_envelopes WHERE device_id = $1 ORDER BY config_id`, deviceID)
	if err != nil {
		return nil, fmt.Errorf("key envelopes of device %s: %w", deviceID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.KeyEnvelope, error) {
		e := store.KeyEnvelope{DeviceID: deviceID}
		err := r.Scan(&e.ConfigID, &e.ConfigVersion, &e.BlobSHA256, &e.CertSerial, &e.Envelope, &e.CreatedAt)
		e.CreatedAt = e.CreatedAt.UTC()
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("key envelopes of device %s: %w", deviceID, err)
	}
	return out, nil
}

// PutKeyEnvelopes stores envelopes, replacing those of the same device and
// configuration, in one transaction sent as one batch.
func (s *Store) PutKeyEnvelopes(ctx context.Context, envs []store.KeyEnvelope) error {
	if len(envs) == 0 {
		return nil
	}
	err := s.tx(ctx, func(q db) error {
		b := &pgx.Batch{}
		for _, e := range envs {
			b.Queue(`
INSERT INTO key_envelopes (device_id, config_id, config_version, blob_sha256, cert_serial, envelope, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (device_id, config_id) DO UPDATE SET config_version = excluded.config_version,
	blob_sha256 = excluded.blob_sha256, cert_serial = excluded.cert_serial, envelope = excluded.envelope,
	created_at = excluded.created_at`,
				clean([]any{e.DeviceID, e.ConfigID, e.ConfigVersion, e.BlobSHA256, e.CertSerial, e.Envelope, e.CreatedAt})...)
		}
		return q.sendBatch(ctx, b)
	})
	if isForeignKeyViolation(err) {
		err = store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("put key envelopes: %w", err)
	}
	return nil
}
