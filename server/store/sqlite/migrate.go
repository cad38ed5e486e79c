package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// migration takes the schema one version up: its SQL, then, when the data
// must be reshaped in ways SQL alone says poorly, a Go step in the same
// transaction.
type migration struct {
	sql  string
	data func(ctx context.Context, tx *sql.Tx) error
}

// migrations holds the schema, one entry per version: migrations[i] takes the
// database from user_version i to i+1. Entries are append-only once released;
// a change to the schema is a new entry.
//
// Times are TEXT in timeLayout (UTC, fixed-width nanoseconds); lists and maps
// are JSON text; NULL marks an instant that has not happened.
var migrations = []migration{
	{sql: `
CREATE TABLE tokens (
	hash       BLOB PRIMARY KEY,
	user       TEXT NOT NULL DEFAULT '',
	uses_left  INTEGER NOT NULL CHECK (uses_left >= 0),
	expires_at TEXT NOT NULL,
	created_at TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE devices (
	id            TEXT PRIMARY KEY,
	serial        TEXT NOT NULL DEFAULT '',
	facts         TEXT NOT NULL DEFAULT '{}',
	user          TEXT NOT NULL DEFAULT '',
	groups        TEXT NOT NULL DEFAULT '[]',
	capabilities  TEXT NOT NULL DEFAULT '[]',
	agent_version TEXT NOT NULL DEFAULT '',
	cert_serial   TEXT NOT NULL DEFAULT '',
	enrolled_at   TEXT NOT NULL,
	last_checkin  TEXT,
	left_at       TEXT
);
CREATE INDEX devices_enrolled_at ON devices (enrolled_at);
CREATE INDEX devices_serial ON devices (serial);

CREATE TABLE scripts (
	id          TEXT PRIMARY KEY,
	name        TEXT NOT NULL,
	sha256      TEXT NOT NULL,
	size        INTEGER NOT NULL,
	blob_sha256 TEXT NOT NULL,
	blob_key    BLOB NOT NULL,
	inputs      TEXT NOT NULL DEFAULT '[]',
	created_at  TEXT NOT NULL
);

CREATE TABLE assignments (
	id         TEXT PRIMARY KEY,
	script_id  TEXT NOT NULL REFERENCES scripts (id),
	target     TEXT NOT NULL,
	target_id  TEXT NOT NULL DEFAULT '',
	schedule   TEXT NOT NULL,
	inputs     TEXT NOT NULL DEFAULT '{}',
	run_as     TEXT NOT NULL DEFAULT '',
	version    INTEGER NOT NULL,
	created_at TEXT NOT NULL
);
CREATE INDEX assignments_script_id ON assignments (script_id);
CREATE INDEX assignments_created_at ON assignments (created_at);

-- results keep no foreign keys: they are history and must outlive the
-- device, script or assignment they name.
CREATE TABLE results (
	run_id             TEXT PRIMARY KEY,
	device_id          TEXT NOT NULL,
	assignment_id      TEXT NOT NULL,
	assignment_version INTEGER NOT NULL,
	script_id          TEXT NOT NULL,
	occurrence         TEXT,
	status             TEXT NOT NULL,
	exit_code          INTEGER NOT NULL,
	started_at         TEXT,
	finished_at        TEXT,
	duration_ms        INTEGER NOT NULL,
	stdout             TEXT NOT NULL,
	stderr             TEXT NOT NULL,
	stdout_bytes       INTEGER NOT NULL,
	stderr_bytes       INTEGER NOT NULL,
	truncated          INTEGER NOT NULL,
	invalid_utf8       INTEGER NOT NULL,
	error              TEXT NOT NULL,
	received_at        TEXT NOT NULL
);
CREATE INDEX results_device_id ON results (device_id, received_at);
CREATE INDEX results_script_id ON results (script_id, received_at);
CREATE INDEX results_received_at ON results (received_at);

CREATE TABLE config (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
) WITHOUT ROWID;
`},
	// Inventory: the latest report of each device, its receipts and apps in
	// their own tables (indexed by identifier, to answer "which devices have
	// this package"), and the app catalog.
	{sql: `
CREATE TABLE inventories (
	device_id    TEXT PRIMARY KEY REFERENCES devices (id),
	hash         TEXT NOT NULL,
	collected_at TEXT NOT NULL,
	received_at  TEXT NOT NULL,
	facts        TEXT NOT NULL DEFAULT '{}',
	errors       TEXT NOT NULL DEFAULT '[]'
);

CREATE TABLE inventory_receipts (
	device_id       TEXT NOT NULL REFERENCES inventories (device_id) ON DELETE CASCADE,
	package_id      TEXT NOT NULL,
	version         TEXT NOT NULL,
	install_date    TEXT,
	install_prefix  TEXT NOT NULL,
	install_process TEXT NOT NULL
);
CREATE INDEX inventory_receipts_device ON inventory_receipts (device_id);
CREATE INDEX inventory_receipts_package ON inventory_receipts (package_id);

CREATE TABLE inventory_apps (
	device_id TEXT NOT NULL REFERENCES inventories (device_id) ON DELETE CASCADE,
	bundle_id TEXT NOT NULL,
	name      TEXT NOT NULL,
	version   TEXT NOT NULL,
	build     TEXT NOT NULL,
	path      TEXT NOT NULL
);
CREATE INDEX inventory_apps_device ON inventory_apps (device_id);
CREATE INDEX inventory_apps_bundle ON inventory_apps (bundle_id);

CREATE TABLE apps (
	id          TEXT PRIMARY KEY,
	name        TEXT NOT NULL,
	kind        TEXT NOT NULL,
	package_id  TEXT NOT NULL DEFAULT '',
	bundle_id   TEXT NOT NULL DEFAULT '',
	version     TEXT NOT NULL DEFAULT '',
	priority    INTEGER NOT NULL DEFAULT 0,
	file_sha256 TEXT NOT NULL DEFAULT '',
	file_size   INTEGER NOT NULL DEFAULT 0,
	created_at  TEXT NOT NULL
);
CREATE INDEX apps_created_at ON apps (created_at);
`},
	// Apps@Work: the details the detail page shows (images as JSON lists
	// of digests; the files live under the data directory), user reviews,
	// and which devices each app is distributed to.
	{sql: `
CREATE TABLE app_details (
	app_id            TEXT PRIMARY KEY REFERENCES apps (id) ON DELETE CASCADE,
	publisher         TEXT NOT NULL DEFAULT '',
	category          TEXT NOT NULL DEFAULT '',
	short_description TEXT NOT NULL DEFAULT '',
	description       TEXT NOT NULL DEFAULT '',
	icon              TEXT,
	screenshots       TEXT NOT NULL DEFAULT '[]',
	updated_at        TEXT NOT NULL
);

CREATE TABLE app_reviews (
	id         TEXT PRIMARY KEY,
	app_id     TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
	author     TEXT NOT NULL,
	rating     INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
	text       TEXT NOT NULL DEFAULT '',
	created_at TEXT NOT NULL
);
CREATE INDEX app_reviews_app ON app_reviews (app_id, created_at);

CREATE TABLE app_distributions (
	id         TEXT PRIMARY KEY,
	app_id     TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
	target     TEXT NOT NULL,
	target_id  TEXT NOT NULL DEFAULT '',
	created_at TEXT NOT NULL,
	UNIQUE (app_id, target, target_id)
);
CREATE INDEX app_distributions_created_at ON app_distributions (created_at);
`},
	// Onboarding: the configurations (profiles) of the plan, and the latest
	// progress of each device (stages, items and the bounded log, as JSON).
	{sql: `
CREATE TABLE profiles (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	identifier TEXT NOT NULL UNIQUE,
	created_at TEXT NOT NULL
);
CREATE INDEX profiles_created_at ON profiles (created_at);

CREATE TABLE onboarding (
	device_id   TEXT PRIMARY KEY REFERENCES devices (id),
	state       TEXT NOT NULL,
	report      TEXT NOT NULL,
	received_at TEXT NOT NULL
);
`},
	// Configurations, see migrate_configurations.go.
	{sql: configurationsSchema, data: migrateToConfigurations},
	// Cheap check-ins, see delivery.go.
	{sql: deliverySchema()},
	// Results at fleet scale: the status filter gets its index like the
	// others; with the implicit rowid each yields (received_at, rowid) order.
	{sql: `CREATE INDEX results_status ON results (status, received_at);`},
	// Run now: a one-off configuration may expire, and pending wakes, see
	// wakes.go.
	{sql: wakesSchema},
	// Cancel and the brake on scripts, see cancel.go.
	{sql: cancelSchema},
	// Retries: how often a script configuration tries a failed run again,
	// and each result's attempt; see retries.go.
	{sql: retriesSchema},
	// Download links of enrolling packages and the tenant's public URLs,
	// see links.go.
	{sql: linksSchema},
	// Administrator accounts, API tokens, console sessions and the audit
	// log, see accounts.go.
	{sql: accountsSchema},
	// The deny list of retired devices' certificates, see retire.go.
	{sql: retireSchema},
	// Device certificate renewal: the expiry of the certificate in use, and
	// a renewed one the device has not used yet.
	{sql: `
ALTER TABLE devices ADD COLUMN cert_not_after TEXT;
ALTER TABLE devices ADD COLUMN pending_serial TEXT NOT NULL DEFAULT '';
ALTER TABLE devices ADD COLUMN pending_not_after TEXT;
`},
}

// migrate applies the migrations the database lacks, each in its own
// transaction together with the user_version bump, so a crash leaves the
// schema at a version it really has. BEGIN IMMEDIATE makes a second process
// opening the same file wait, then see the new version and skip the step.
func (s *Store) migrate(ctx context.Context) error {
	for {
		done := false
		err := s.tx(ctx, func(tx *sql.Tx) error {
			var v int
			if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
				return fmt.Errorf("read schema version: %w", err)
			}
			switch {
			case v > len(migrations):
				return fmt.Errorf("schema version %d is newer than this server supports (%d): upgrade mobileatwork-server", v, len(migrations))
			case v == len(migrations):
				done = true
				return nil
			}
			m := migrations[v]
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return fmt.Errorf("migrate schema to version %d: %w", v+1, err)
			}
			if m.data != nil {
				if err := m.data(ctx, tx); err != nil {
					return fmt.Errorf("migrate data to version %d: %w", v+1, err)
				}
			}
			// PRAGMA takes no bound parameters; v is an int we computed.
			if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", v+1)); err != nil {
				return fmt.Errorf("set schema version %d: %w", v+1, err)
			}
			return nil
		})
		if isBusy(err) && ctx.Err() == nil {
			// Two processes creating the same database race for the switch to
			// WAL, where SQLite answers BUSY without waiting: try again.
			time.Sleep(20 * time.Millisecond)
			continue
		}
		if err != nil {
			return err
		}
		if done {
			return nil
		}
	}
}

// isBusy tells whether err is SQLite's BUSY or LOCKED (any extended code).
func isBusy(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	code := se.Code() & 0xff
	return code == sqlite3.SQLITE_BUSY || code == sqlite3.SQLITE_LOCKED
}
