package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/mobileatwork/mobileatwork/protocol/schedule"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// configurationsSchema brings in the administrator's model: named
// Mobile@Work and script configurations with their targets, per-device
// statuses, users and user groups, script versions, token revocation, the
// agent's recent log, and the digest of the body each result ran.
const configurationsSchema = `
CREATE TABLE configurations (
	id          TEXT PRIMARY KEY,
	kind        TEXT NOT NULL CHECK (kind IN ('mobileatwork', 'script')),
	name        TEXT NOT NULL COLLATE NOCASE UNIQUE,
	description TEXT NOT NULL DEFAULT '',
	version     INTEGER NOT NULL,
	priority    INTEGER NOT NULL DEFAULT 0,
	settings    TEXT NOT NULL DEFAULT '{}',
	script_id   TEXT REFERENCES scripts (id),
	inputs      TEXT NOT NULL DEFAULT '{}',
	schedule    TEXT NOT NULL DEFAULT '{}',
	run_as      TEXT NOT NULL DEFAULT '',
	created_at  TEXT NOT NULL,
	updated_at  TEXT NOT NULL
);
CREATE INDEX configurations_script_id ON configurations (script_id);

-- One row per target; (kind, value) is what a check-in looks up.
CREATE TABLE config_targets (
	config_id TEXT NOT NULL REFERENCES configurations (id) ON DELETE CASCADE,
	kind      TEXT NOT NULL,
	value     TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (config_id, kind, value)
) WITHOUT ROWID;
CREATE INDEX config_targets_reach ON config_targets (kind, value);

CREATE TABLE config_status (
	config_id  TEXT NOT NULL REFERENCES configurations (id) ON DELETE CASCADE,
	device_id  TEXT NOT NULL REFERENCES devices (id),
	version    INTEGER NOT NULL,
	status     TEXT NOT NULL,
	detail     TEXT NOT NULL DEFAULT '',
	next_run   TEXT,
	updated_at TEXT NOT NULL,
	PRIMARY KEY (config_id, device_id)
) WITHOUT ROWID;
CREATE INDEX config_status_device ON config_status (device_id);

CREATE TABLE users (
	email      TEXT PRIMARY KEY,
	name       TEXT NOT NULL DEFAULT '',
	created_at TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE user_groups (
	name        TEXT PRIMARY KEY,
	description TEXT NOT NULL DEFAULT '',
	created_at  TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE user_group_members (
	group_name TEXT NOT NULL REFERENCES user_groups (name) ON DELETE CASCADE,
	email      TEXT NOT NULL REFERENCES users (email),
	PRIMARY KEY (group_name, email)
) WITHOUT ROWID;
CREATE INDEX user_group_members_email ON user_group_members (email);

CREATE TABLE script_versions (
	script_id   TEXT NOT NULL REFERENCES scripts (id) ON DELETE CASCADE,
	version     INTEGER NOT NULL,
	sha256      TEXT NOT NULL,
	size        INTEGER NOT NULL,
	blob_sha256 TEXT NOT NULL,
	blob_key    BLOB NOT NULL,
	created_at  TEXT NOT NULL,
	PRIMARY KEY (script_id, version)
);
ALTER TABLE scripts ADD COLUMN description TEXT NOT NULL DEFAULT '';
ALTER TABLE scripts ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE scripts ADD COLUMN updated_at TEXT;
INSERT INTO script_versions (script_id, version, sha256, size, blob_sha256, blob_key, created_at)
	SELECT id, 1, sha256, size, blob_sha256, blob_key, created_at FROM scripts;

-- Scripts had one version until now: the body each result ran is known.
ALTER TABLE results ADD COLUMN script_sha256 TEXT NOT NULL DEFAULT '';
ALTER TABLE results ADD COLUMN waiting TEXT NOT NULL DEFAULT '';
UPDATE results SET script_sha256 = COALESCE((SELECT sha256 FROM scripts WHERE scripts.id = results.script_id), '');
CREATE INDEX results_device_assignment ON results (device_id, assignment_id, received_at);
CREATE INDEX results_assignment ON results (assignment_id, received_at);

-- Onboarding profiles get a distribution too; those of earlier releases
-- were in every device's plan.
CREATE TABLE profile_targets (
	profile_id TEXT NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
	kind       TEXT NOT NULL,
	value      TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (profile_id, kind, value)
) WITHOUT ROWID;
INSERT INTO profile_targets (profile_id, kind, value) SELECT id, 'all', '' FROM profiles;

ALTER TABLE tokens ADD COLUMN revoked_at TEXT;
ALTER TABLE devices ADD COLUMN recent_log TEXT NOT NULL DEFAULT '[]';

INSERT OR IGNORE INTO users (email, created_at)
	SELECT user, MIN(created_at) FROM tokens WHERE user != '' GROUP BY user;
INSERT OR IGNORE INTO users (email, created_at)
	SELECT user, MIN(enrolled_at) FROM devices WHERE user != '' GROUP BY user;
`

// migrateToConfigurations turns the single tenant configuration into the
// default Mobile@Work configuration and each assignment into a script
// configuration with the same id, version and target, so devices see no
// change. The default reaches every device of a tenant that existed before
// (as the single configuration did) and no one in a new database, as the
// product documentation has it.
func migrateToConfigurations(ctx context.Context, tx *sql.Tx) error {
	var existed bool
	err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM devices) OR EXISTS (SELECT 1 FROM tokens)
	OR EXISTS (SELECT 1 FROM scripts) OR EXISTS (SELECT 1 FROM config)`).Scan(&existed)
	if err != nil {
		return err
	}
	settings := map[string]string{}
	rows, err := tx.QueryContext(ctx, `SELECT key, value FROM config`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			rows.Close()
			return err
		}
		settings[k] = v
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	now := time.Now()
	def := store.Configuration{
		ID: store.DefaultConfigID, Kind: store.KindMobileAtWork, Name: "default",
		Description: "The default Mobile@Work configuration", Version: 1, Priority: 1,
		Settings: settings, CreatedAt: now, UpdatedAt: now,
	}
	if err := insertMigrated(ctx, tx, def, "all", "", existed); err != nil {
		return err
	}

	type asg struct {
		id, scriptID, scriptName, target, targetID, sched, inputs, runAs, created string
		version                                                                   int
	}
	var list []asg
	rows, err = tx.QueryContext(ctx, `
SELECT a.id, a.script_id, COALESCE(s.name, a.script_id), a.target, a.target_id, a.schedule, a.inputs, a.run_as, a.version, a.created_at
FROM assignments a LEFT JOIN scripts s ON s.id = a.script_id ORDER BY a.created_at, a.id`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var a asg
		if err := rows.Scan(&a.id, &a.scriptID, &a.scriptName, &a.target, &a.targetID, &a.sched, &a.inputs, &a.runAs, &a.version, &a.created); err != nil {
			rows.Close()
			return err
		}
		list = append(list, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	taken := map[string]bool{"default": true}
	for _, a := range list {
		var c store.Configuration
		c.ID, c.Kind, c.Version = a.id, store.KindScript, a.version
		c.Script.ScriptID, c.Script.RunAs = a.scriptID, a.runAs
		if err := unmarshalJSON(a.sched, &c.Script.Schedule); err != nil {
			return fmt.Errorf("assignment %s: %w", a.id, err)
		}
		if err := unmarshalJSON(a.inputs, &c.Script.Inputs); err != nil {
			return fmt.Errorf("assignment %s: %w", a.id, err)
		}
		if c.CreatedAt, err = parseTime(a.created); err != nil {
			return err
		}
		c.UpdatedAt = c.CreatedAt
		target := a.target
		if a.target != "all" {
			target += ":" + a.targetID
		}
		c.Name = uniqueName(taken, fmt.Sprintf("%s (%s, %s)", a.scriptName, target, scheduleWord(c.Script.Schedule)))
		c.Description = fmt.Sprintf("Made from the assignment of script %s to %s.", a.scriptName, target)
		if err := insertMigrated(ctx, tx, c, a.target, a.targetID, true); err != nil {
			return err
		}
	}
	_, err = tx.ExecContext(ctx, `DROP TABLE assignments; DROP TABLE config;`)
	return err
}

func scheduleWord(s schedule.Spec) string {
	if s.Kind == "" {
		return schedule.Once
	}
	return s.Kind
}

// uniqueName returns name, or name followed by the first free " #N".
func uniqueName(taken map[string]bool, name string) string {
	try := name
	for n := 2; taken[strings.ToLower(try)]; n++ {
		try = fmt.Sprintf("%s #%d", name, n)
	}
	taken[strings.ToLower(try)] = true
	return try
}

func insertMigrated(ctx context.Context, tx *sql.Tx, c store.Configuration, kind, value string, distribute bool) error {
	r, err := encodeConfig(c)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO configurations (`+configColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.Kind, c.Name, c.Description, c.Version, c.Priority, r.Settings, r.ScriptID, r.Inputs, r.Schedule,
		c.Script.RunAs, formatTime(c.CreatedAt), formatTime(c.UpdatedAt)); err != nil {
		return fmt.Errorf("configuration %s: %w", c.ID, err)
	}
	if !distribute {
		return nil
	}
	if kind == "all" {
		value = ""
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO config_targets (config_id, kind, value) VALUES (?, ?, ?)`, c.ID, kind, value)
	return err
}
