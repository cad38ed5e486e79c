package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations holds the schema, one entry per version: migrations[i] takes the
// database from user_version i to i+1. Entries are append-only once released;
// a change to the schema is a new entry.
//
// Times are TEXT in timeLayout (UTC, fixed-width nanoseconds); lists and maps
// are JSON text; NULL marks an instant that has not happened.
var migrations = []string{
	`
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
`,
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
			if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
				return fmt.Errorf("migrate schema to version %d: %w", v+1, err)
			}
			// PRAGMA takes no bound parameters; v is an int we computed.
			if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", v+1)); err != nil {
				return fmt.Errorf("set schema version %d: %w", v+1, err)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if done {
			return nil
		}
	}
}
