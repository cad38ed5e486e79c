package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/mobileatwork/mobileatwork/server/distribution"
	"github.com/mobileatwork/mobileatwork/server/store"
	"github.com/mobileatwork/mobileatwork/server/store/internal/rows"
)

const configColumns = `id, kind, name, description, version, priority, settings, script_id, inputs, schedule, run_as, created_at, updated_at`

// configRead are the columns a configuration is read from: configColumns
// and those later migrations added, which the earlier ones that write
// through configColumns do not know.
const configRead = configColumns + `, expires_at, retries`

func encodeConfig(c store.Configuration) (rows.Config, error) {
	return rows.EncodeConfig(c, marshalJSON)
}

// CreateConfiguration stores c and its targets in one transaction.
func (s *Store) CreateConfiguration(ctx context.Context, c store.Configuration) error {
	r, err := encodeConfig(c)
	if err != nil {
		return fmt.Errorf("create configuration %s: %w", c.ID, err)
	}
	err = s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO configurations (`+configRead+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.ID, c.Kind, c.Name, c.Description, c.Version, c.Priority, r.Settings, r.ScriptID, r.Inputs, r.Schedule,
			c.Script.RunAs, formatTime(c.CreatedAt), formatTime(c.UpdatedAt), nullTime(c.ExpiresAt), c.Script.Retries)
		if err != nil {
			return configWriteError(err)
		}
		return putTargets(ctx, tx, c.ID, c.Targets)
	})
	if err != nil {
		return fmt.Errorf("create configuration %s: %w", c.ID, err)
	}
	return nil
}

// UpdateConfiguration replaces every field of the configuration with c's.
func (s *Store) UpdateConfiguration(ctx context.Context, c store.Configuration) error {
	r, err := encodeConfig(c)
	if err != nil {
		return fmt.Errorf("update configuration %s: %w", c.ID, err)
	}
	err = s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `
UPDATE configurations SET kind = ?, name = ?, description = ?, version = ?, priority = ?, settings = ?,
	script_id = ?, inputs = ?, schedule = ?, run_as = ?, updated_at = ?, expires_at = ?, retries = ?
WHERE id = ?`,
			c.Kind, c.Name, c.Description, c.Version, c.Priority, r.Settings, r.ScriptID, r.Inputs, r.Schedule,
			c.Script.RunAs, formatTime(c.UpdatedAt), nullTime(c.ExpiresAt), c.Script.Retries, c.ID)
		if err != nil {
			return configWriteError(err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return store.ErrNotFound
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM config_targets WHERE config_id = ?`, c.ID); err != nil {
			return err
		}
		return putTargets(ctx, tx, c.ID, c.Targets)
	})
	if err != nil {
		return fmt.Errorf("update configuration %s: %w", c.ID, err)
	}
	return nil
}

// configWriteError maps constraint failures to the store's sentinels.
func configWriteError(err error) error {
	switch {
	case isForeignKeyViolation(err):
		return fmt.Errorf("script: %w", store.ErrNotFound)
	case isUniqueViolation(err):
		return fmt.Errorf("id or name: %w", store.ErrExists)
	}
	return err
}

func putTargets(ctx context.Context, tx *sql.Tx, id string, ts []distribution.Target) error {
	for _, t := range ts {
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO config_targets (config_id, kind, value) VALUES (?, ?, ?)`,
			id, t.Kind, t.Value); err != nil {
			return err
		}
	}
	return nil
}

// Configuration returns one configuration with its targets.
func (s *Store) Configuration(ctx context.Context, id string) (store.Configuration, error) {
	cs, err := s.queryConfigs(ctx, `SELECT `+configRead+` FROM configurations WHERE id = ?`, id)
	if err == nil && len(cs) == 0 {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Configuration{}, fmt.Errorf("get configuration %s: %w", id, err)
	}
	return cs[0], nil
}

// ConfigurationByName returns the configuration with this name, any case.
func (s *Store) ConfigurationByName(ctx context.Context, name string) (store.Configuration, error) {
	cs, err := s.queryConfigs(ctx, `SELECT `+configRead+` FROM configurations WHERE name = ?`, name)
	if err == nil && len(cs) == 0 {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Configuration{}, fmt.Errorf("get configuration %q: %w", name, err)
	}
	return cs[0], nil
}

// Configurations returns every configuration: Mobile@Work ones first, by
// priority, then scripts, each kind oldest first.
func (s *Store) Configurations(ctx context.Context) ([]store.Configuration, error) {
	cs, err := s.queryConfigs(ctx, `SELECT `+configRead+` FROM configurations ORDER BY kind, priority, created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list configurations: %w", err)
	}
	return cs, nil
}

// reachWhere is the condition on a targets table (its kind and value
// columns) that picks the rows naming this device, its user, one of their
// groups, or everyone: what the reach indexes answer.
func reachWhere(a distribution.Audience, kindCol, valueCol string) (string, []any) {
	conds := []string{`(` + kindCol + ` = 'all')`, `(` + kindCol + ` = 'device' AND ` + valueCol + ` = ?)`}
	args := []any{a.DeviceID}
	if a.User != "" {
		conds = append(conds, `(`+kindCol+` = 'user' AND `+valueCol+` = ?)`)
		args = append(args, strings.ToLower(a.User))
	}
	in := func(kind string, values []string) {
		if len(values) == 0 {
			return
		}
		conds = append(conds, `(`+kindCol+` = '`+kind+`' AND `+valueCol+` IN (?`+strings.Repeat(", ?", len(values)-1)+`))`)
		for _, v := range values {
			args = append(args, v)
		}
	}
	in(distribution.DeviceGroup, a.DeviceGroups)
	in(distribution.UserGroup, a.UserGroups)
	return strings.Join(conds, " OR "), args
}

// ConfigurationsFor looks up, through config_targets_reach, the
// configurations with a target naming this device, its user, or one of
// their groups, or everyone.
func (s *Store) ConfigurationsFor(ctx context.Context, a distribution.Audience) ([]store.Configuration, error) {
	where, args := reachWhere(a, "kind", "value")
	q := `SELECT ` + configRead + ` FROM configurations WHERE id IN (
	SELECT config_id FROM config_targets WHERE ` + where + `)
ORDER BY kind, priority, created_at, id`
	cs, err := s.queryConfigs(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("configurations for device %s: %w", a.DeviceID, err)
	}
	return cs, nil
}

// DeleteConfiguration removes a configuration; its targets and statuses go
// with it (ON DELETE CASCADE).
func (s *Store) DeleteConfiguration(ctx context.Context, id string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM configurations WHERE id = ?`, id)
	if err == nil {
		var n int64
		if n, err = res.RowsAffected(); err == nil && n == 0 {
			err = store.ErrNotFound
		}
	}
	if err != nil {
		return fmt.Errorf("delete configuration %s: %w", id, err)
	}
	return nil
}

// SetPriorities numbers the configurations 1, 2, ... in the order given.
func (s *Store) SetPriorities(ctx context.Context, ids []string, at time.Time) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		for i, id := range ids {
			res, err := tx.ExecContext(ctx, `UPDATE configurations SET priority = ?, updated_at = CASE WHEN priority = ? THEN updated_at ELSE ? END WHERE id = ?`,
				i+1, i+1, formatTime(at), id)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n == 0 {
				return fmt.Errorf("configuration %s: %w", id, store.ErrNotFound)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("set priorities: %w", err)
	}
	return nil
}

// queryConfigs runs a query over configColumns and attaches each row's
// targets with one more query.
func (s *Store) queryConfigs(ctx context.Context, q string, args ...any) ([]store.Configuration, error) {
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	var out []store.Configuration
	index := map[string]int{}
	for rows.Next() {
		c, err := scanConfig(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		index[c.ID] = len(out)
		out = append(out, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, nil
	}
	ids := make([]any, 0, len(out))
	for _, c := range out {
		ids = append(ids, c.ID)
	}
	trows, err := s.read.QueryContext(ctx, `SELECT config_id, kind, value FROM config_targets WHERE config_id IN (?`+
		strings.Repeat(", ?", len(ids)-1)+`) ORDER BY config_id, kind, value`, ids...)
	if err != nil {
		return nil, err
	}
	defer trows.Close()
	for trows.Next() {
		var id string
		var t distribution.Target
		if err := trows.Scan(&id, &t.Kind, &t.Value); err != nil {
			return nil, err
		}
		if i, ok := index[id]; ok {
			out[i].Targets = append(out[i].Targets, t)
		}
	}
	return out, trows.Err()
}

func scanConfig(r scanner) (store.Configuration, error) {
	var (
		c                                    store.Configuration
		settings, inputs, sched, created, up string
		scriptID, expires                    sql.NullString
	)
	if err := r.Scan(&c.ID, &c.Kind, &c.Name, &c.Description, &c.Version, &c.Priority, &settings, &scriptID,
		&inputs, &sched, &c.Script.RunAs, &created, &up, &expires, &c.Script.Retries); err != nil {
		return store.Configuration{}, err
	}
	c.Script.ScriptID = scriptID.String
	if err := unmarshalJSON(settings, &c.Settings); err != nil {
		return store.Configuration{}, err
	}
	if err := unmarshalJSON(inputs, &c.Script.Inputs); err != nil {
		return store.Configuration{}, err
	}
	if err := unmarshalJSON(sched, &c.Script.Schedule); err != nil {
		return store.Configuration{}, err
	}
	if len(c.Settings) == 0 {
		c.Settings = nil
	}
	if len(c.Script.Inputs) == 0 {
		c.Script.Inputs = nil
	}
	var err error
	if c.CreatedAt, err = parseTime(created); err != nil {
		return store.Configuration{}, err
	}
	if c.ExpiresAt, err = parseNullTime(expires); err != nil {
		return store.Configuration{}, err
	}
	c.UpdatedAt, err = parseTime(up)
	return c, err
}
