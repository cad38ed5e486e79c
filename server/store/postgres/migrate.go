package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mobileatwork/mobileatwork/server/store"
)

// migrations holds the schema, one entry per version: migrations[i] takes
// the database from version i to i+1. Entries are append-only once
// released. The first is the SQLite backend's logical schema as it stood
// when PostgreSQL tenants began, in PostgreSQL's types; later ones follow
// the SQLite backend's later migrations.
//
// Text that is sorted is COLLATE "C", so listings come in the byte order
// the SQLite backend gives whatever the database's locale.
var migrations = []string{`
CREATE TABLE tokens (
	hash       bytea PRIMARY KEY,
	"user"     text NOT NULL DEFAULT '',
	uses_left  integer NOT NULL CHECK (uses_left >= 0),
	expires_at timestamptz NOT NULL,
	created_at timestamptz NOT NULL,
	revoked_at timestamptz
);
CREATE INDEX tokens_created_at ON tokens (created_at);

CREATE TABLE devices (
	id            text COLLATE "C" PRIMARY KEY,
	serial        text NOT NULL DEFAULT '',
	facts         jsonb NOT NULL DEFAULT '{}',
	"user"        text NOT NULL DEFAULT '',
	groups        jsonb NOT NULL DEFAULT '[]',
	capabilities  jsonb NOT NULL DEFAULT '[]',
	agent_version text NOT NULL DEFAULT '',
	cert_serial   text NOT NULL DEFAULT '',
	enrolled_at   timestamptz NOT NULL,
	last_checkin  timestamptz,
	left_at       timestamptz,
	recent_log    jsonb NOT NULL DEFAULT '[]'
);
CREATE INDEX devices_enrolled_at ON devices (enrolled_at, id);
CREATE INDEX devices_serial ON devices (serial);

CREATE TABLE scripts (
	id          text COLLATE "C" PRIMARY KEY,
	name        text NOT NULL,
	description text NOT NULL DEFAULT '',
	inputs      jsonb NOT NULL DEFAULT '[]',
	version     integer NOT NULL DEFAULT 1,
	sha256      text NOT NULL,
	size        bigint NOT NULL,
	blob_sha256 text NOT NULL,
	blob_key    bytea NOT NULL,
	created_at  timestamptz NOT NULL,
	updated_at  timestamptz NOT NULL
);

CREATE TABLE script_versions (
	script_id   text NOT NULL REFERENCES scripts (id) ON DELETE CASCADE,
	version     integer NOT NULL,
	sha256      text NOT NULL,
	size        bigint NOT NULL,
	blob_sha256 text NOT NULL,
	blob_key    bytea NOT NULL,
	created_at  timestamptz NOT NULL,
	PRIMARY KEY (script_id, version)
);

-- results keep no foreign keys: they are history and must outlive the
-- device, script or configuration they name. id keeps the arrival order
-- of results received at the same instant.
CREATE TABLE results (
	id                 bigserial PRIMARY KEY,
	run_id             text NOT NULL UNIQUE,
	device_id          text NOT NULL,
	assignment_id      text NOT NULL,
	assignment_version integer NOT NULL,
	script_id          text NOT NULL,
	script_sha256      text NOT NULL DEFAULT '',
	waiting            text NOT NULL DEFAULT '',
	occurrence         timestamptz,
	status             text NOT NULL,
	exit_code          integer NOT NULL,
	started_at         timestamptz,
	finished_at        timestamptz,
	duration_ms        bigint NOT NULL,
	stdout             bytea NOT NULL,
	stderr             bytea NOT NULL,
	stdout_bytes       bigint NOT NULL,
	stderr_bytes       bigint NOT NULL,
	truncated          boolean NOT NULL,
	invalid_utf8       boolean NOT NULL,
	error              text NOT NULL,
	received_at        timestamptz NOT NULL
);
CREATE INDEX results_device_id ON results (device_id, received_at);
CREATE INDEX results_script_id ON results (script_id, received_at);
CREATE INDEX results_received_at ON results (received_at, id);
CREATE INDEX results_device_assignment ON results (device_id, assignment_id, received_at);
CREATE INDEX results_assignment ON results (assignment_id, received_at);

CREATE TABLE inventories (
	device_id    text PRIMARY KEY REFERENCES devices (id),
	hash         text NOT NULL,
	collected_at timestamptz NOT NULL,
	received_at  timestamptz NOT NULL,
	facts        jsonb NOT NULL DEFAULT '{}',
	errors       jsonb NOT NULL DEFAULT '[]'
);

CREATE TABLE inventory_receipts (
	id              bigserial PRIMARY KEY,
	device_id       text NOT NULL REFERENCES inventories (device_id) ON DELETE CASCADE,
	package_id      text COLLATE "C" NOT NULL,
	version         text COLLATE "C" NOT NULL,
	install_date    timestamptz,
	install_prefix  text COLLATE "C" NOT NULL,
	install_process text NOT NULL
);
CREATE INDEX inventory_receipts_device ON inventory_receipts (device_id);
CREATE INDEX inventory_receipts_package ON inventory_receipts (package_id);

CREATE TABLE inventory_apps (
	id        bigserial PRIMARY KEY,
	device_id text NOT NULL REFERENCES inventories (device_id) ON DELETE CASCADE,
	bundle_id text COLLATE "C" NOT NULL,
	name      text NOT NULL,
	version   text NOT NULL,
	build     text NOT NULL,
	path      text COLLATE "C" NOT NULL
);
CREATE INDEX inventory_apps_device ON inventory_apps (device_id);
CREATE INDEX inventory_apps_bundle ON inventory_apps (bundle_id);

CREATE TABLE apps (
	id          text COLLATE "C" PRIMARY KEY,
	name        text NOT NULL,
	kind        text NOT NULL,
	package_id  text NOT NULL DEFAULT '',
	bundle_id   text NOT NULL DEFAULT '',
	version     text NOT NULL DEFAULT '',
	priority    boolean NOT NULL DEFAULT false,
	file_sha256 text NOT NULL DEFAULT '',
	file_size   bigint NOT NULL DEFAULT 0,
	created_at  timestamptz NOT NULL
);
CREATE INDEX apps_created_at ON apps (created_at, id);

CREATE TABLE app_details (
	app_id            text PRIMARY KEY REFERENCES apps (id) ON DELETE CASCADE,
	publisher         text NOT NULL DEFAULT '',
	category          text NOT NULL DEFAULT '',
	short_description text NOT NULL DEFAULT '',
	description       text NOT NULL DEFAULT '',
	icon              jsonb,
	screenshots       jsonb NOT NULL DEFAULT '[]',
	updated_at        timestamptz NOT NULL
);

CREATE TABLE app_reviews (
	id         text COLLATE "C" PRIMARY KEY,
	app_id     text NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
	author     text NOT NULL,
	rating     integer NOT NULL CHECK (rating BETWEEN 1 AND 5),
	text       text NOT NULL DEFAULT '',
	created_at timestamptz NOT NULL
);
CREATE INDEX app_reviews_app ON app_reviews (app_id, created_at);

CREATE TABLE app_distributions (
	id         text COLLATE "C" PRIMARY KEY,
	app_id     text NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
	target     text NOT NULL,
	target_id  text NOT NULL DEFAULT '',
	created_at timestamptz NOT NULL,
	UNIQUE (app_id, target, target_id)
);
CREATE INDEX app_distributions_created_at ON app_distributions (created_at, id);

CREATE TABLE profiles (
	id         text COLLATE "C" PRIMARY KEY,
	name       text NOT NULL,
	identifier text NOT NULL UNIQUE,
	created_at timestamptz NOT NULL
);
CREATE INDEX profiles_created_at ON profiles (created_at, id);

CREATE TABLE profile_targets (
	profile_id text COLLATE "C" NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
	kind       text COLLATE "C" NOT NULL,
	value      text COLLATE "C" NOT NULL DEFAULT '',
	PRIMARY KEY (profile_id, kind, value)
);

CREATE TABLE onboarding (
	device_id   text PRIMARY KEY REFERENCES devices (id),
	state       text NOT NULL,
	report      jsonb NOT NULL,
	received_at timestamptz NOT NULL
);

-- Names are unique without regard to case, as SQLite's COLLATE NOCASE.
CREATE TABLE configurations (
	id          text COLLATE "C" PRIMARY KEY,
	kind        text COLLATE "C" NOT NULL CHECK (kind IN ('mobileatwork', 'script')),
	name        text NOT NULL,
	description text NOT NULL DEFAULT '',
	version     integer NOT NULL,
	priority    integer NOT NULL DEFAULT 0,
	settings    jsonb NOT NULL DEFAULT '{}',
	script_id   text REFERENCES scripts (id),
	inputs      jsonb NOT NULL DEFAULT '{}',
	schedule    jsonb NOT NULL DEFAULT '{}',
	run_as      text NOT NULL DEFAULT '',
	created_at  timestamptz NOT NULL,
	updated_at  timestamptz NOT NULL
);
CREATE UNIQUE INDEX configurations_name ON configurations (lower(name));
CREATE INDEX configurations_script_id ON configurations (script_id);

-- One row per target; (kind, value) is what a check-in looks up.
CREATE TABLE config_targets (
	config_id text COLLATE "C" NOT NULL REFERENCES configurations (id) ON DELETE CASCADE,
	kind      text COLLATE "C" NOT NULL,
	value     text COLLATE "C" NOT NULL DEFAULT '',
	PRIMARY KEY (config_id, kind, value)
);
CREATE INDEX config_targets_reach ON config_targets (kind, value);

CREATE TABLE config_status (
	config_id  text COLLATE "C" NOT NULL REFERENCES configurations (id) ON DELETE CASCADE,
	device_id  text COLLATE "C" NOT NULL REFERENCES devices (id),
	version    integer NOT NULL,
	status     text NOT NULL,
	detail     text NOT NULL DEFAULT '',
	next_run   timestamptz,
	updated_at timestamptz NOT NULL,
	PRIMARY KEY (config_id, device_id)
);
CREATE INDEX config_status_device ON config_status (device_id);

CREATE TABLE users (
	email      text COLLATE "C" PRIMARY KEY,
	name       text NOT NULL DEFAULT '',
	created_at timestamptz NOT NULL
);

CREATE TABLE user_groups (
	name        text COLLATE "C" PRIMARY KEY,
	description text NOT NULL DEFAULT '',
	created_at  timestamptz NOT NULL
);

CREATE TABLE user_group_members (
	group_name text COLLATE "C" NOT NULL REFERENCES user_groups (name) ON DELETE CASCADE,
	email      text COLLATE "C" NOT NULL REFERENCES users (email),
	PRIMARY KEY (group_name, email)
);
CREATE INDEX user_group_members_email ON user_group_members (email);
`,
	// Cheap check-ins, see delivery.go.
	deliverySchema(),
	// Results at fleet scale: every filter of a listing has an index in
	// the listing's (received_at, id) order, so none sorts the history.
	`CREATE INDEX results_status ON results (status, received_at, id);
DROP INDEX results_device_id;
CREATE INDEX results_device_id ON results (device_id, received_at, id);
DROP INDEX results_script_id;
CREATE INDEX results_script_id ON results (script_id, received_at, id);
DROP INDEX results_assignment;
CREATE INDEX results_assignment ON results (assignment_id, received_at, id);`,
	// The tenant's files, shared by every replica: see blobs.go.
	blobSchema,
	// Run now: a one-off configuration may expire, and pending wakes, see
	// wakes.go.
	wakesSchema,
	// Cancel and the brake on scripts, see cancel.go.
	cancelSchema,
	// Retries: how often a script configuration tries a failed run again,
	// and each result's attempt; see retries.go.
	retriesSchema,
	// Download links of enrolling packages and the tenant's public URLs,
	// see links.go.
	linksSchema,
	// Administrator accounts, API tokens, console sessions and the audit
	// log, see accounts.go.
	accountsSchema,
	// The deny list of retired devices' certificates, see retire.go.
	retireSchema,
	// Device certificate renewal: the expiry of the certificate in use, and
	// a renewed one the device has not used yet.
	`ALTER TABLE devices ADD COLUMN cert_not_after timestamptz;
ALTER TABLE devices ADD COLUMN pending_serial text NOT NULL DEFAULT '';
ALTER TABLE devices ADD COLUMN pending_not_after timestamptz;`,
}

// migrate applies the migrations the database lacks, each in one
// transaction with the version bump. A transaction-scoped advisory lock,
// keyed by the schema, makes replicas that start together take turns: the
// second sees the new version and skips the step.
func (s *Store) migrate(ctx context.Context, create bool) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// A replica migrating a large schema holds the lock for as long as
		// that takes: wait for it (openTimeout bounds the wait) rather than
		// for lock_timeout.
		if _, err := tx.Exec(ctx, `SET LOCAL lock_timeout = 0`); err != nil {
			return fmt.Errorf("lock schema: %w", err)
		}
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('mobileatwork:' || current_schema()))`); err != nil {
			return fmt.Errorf("lock schema: %w", err)
		}
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT to_regclass('schema_version') IS NOT NULL`).Scan(&exists); err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		if exists && create {
			return ErrSchemaExists
		}
		if !exists {
			if !create {
				return ErrNoSchema
			}
			if _, err := tx.Exec(ctx, `CREATE TABLE schema_version (version integer NOT NULL);
INSERT INTO schema_version VALUES (0)`); err != nil {
				return fmt.Errorf("create schema version: %w", err)
			}
		}
		var v int
		if err := tx.QueryRow(ctx, `SELECT version FROM schema_version`).Scan(&v); err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		if v > len(migrations) {
			return fmt.Errorf("schema version %d is newer than this server supports (%d): upgrade mobileatwork-server", v, len(migrations))
		}
		for ; v < len(migrations); v++ {
			if _, err := tx.Exec(ctx, migrations[v]); err != nil {
				return fmt.Errorf("migrate schema to version %d: %w", v+1, err)
			}
			if v == 0 {
				if err := insertDefault(ctx, tx); err != nil {
					return fmt.Errorf("migrate schema to version 1: %w", err)
				}
			}
			if _, err := tx.Exec(ctx, `UPDATE schema_version SET version = $1`, v+1); err != nil {
				return fmt.Errorf("set schema version %d: %w", v+1, err)
			}
		}
		return nil
	})
}

// insertDefault adds the default Mobile@Work configuration a new tenant
// has, distributed to no one.
func insertDefault(ctx context.Context, tx pgx.Tx) error {
	now := time.Now()
	_, err := tx.Exec(ctx, `INSERT INTO configurations (`+configColumns+`)
VALUES ($1, $2, 'default', 'The default Mobile@Work configuration', 1, 1, '{}', NULL, '{}', '{}', '', $3, $3)`,
		store.DefaultConfigID, store.KindMobileAtWork, now)
	return err
}
