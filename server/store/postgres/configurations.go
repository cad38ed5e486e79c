package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

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
	err = s.tx(ctx, func(q db) error {
		_, err := q.Exec(ctx, `INSERT INTO configurations (`+configRead+`)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
			c.ID, c.Kind, c.Name, c.Description, c.Version, c.Priority, r.Settings, r.ScriptID, r.Inputs, r.Schedule,
			c.Script.RunAs, c.CreatedAt, c.UpdatedAt, nullTime(c.ExpiresAt), c.Script.Retries)
		if err != nil {
			return configWriteError(err)
		}
		return putTargets(ctx, q, c.ID, c.Targets)
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
	err = s.tx(ctx, func(q db) error {
		tag, err := q.Exec(ctx, `
UPDATE configurations SET kind = $1, name = $2, description = $3, version = $4, priority = $5, settings = $6,
	script_id = $7, inputs = $8, schedule = $9, run_as = $10, updated_at = $11, expires_at = $12, retries = $13
WHERE id = $14`,
			c.Kind, c.Name, c.Description, c.Version, c.Priority, r.Settings, r.ScriptID, r.Inputs, r.Schedule,
			c.Script.RunAs, c.UpdatedAt, nullTime(c.ExpiresAt), c.Script.Retries, c.ID)
		if err != nil {
			return configWriteError(err)
		}
		if err := rowsAffected(tag, nil); err != nil {
			return err
		}
		if _, err := q.Exec(ctx, `DELETE FROM config_targets WHERE config_id = $1`, c.ID); err != nil {
			return err
		}
		return putTargets(ctx, q, c.ID, c.Targets)
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

func putTargets(ctx context.Context, q db, id string, ts []distribution.Target) error {
	for _, t := range ts {
		if _, err := q.Exec(ctx, `INSERT INTO config_targets (config_id, kind, value) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
			id, t.Kind, t.Value); err != nil {
			return err
		}
	}
	return nil
}

// Configuration returns one configuration with its targets.
func (s *Store) Configuration(ctx context.Context, id string) (store.Configuration, error) {
	cs, err := s.queryConfigs(ctx, `SELECT `+configRead+` FROM configurations WHERE id = $1`, id)
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
	cs, err := s.queryConfigs(ctx, `SELECT `+configRead+` FROM configurations WHERE lower(name) = lower($1)`, name)
	if err == nil && len(cs) == 0 {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Configuration{}, fmt.Errorf("get configuration %q: %w", name, err)
	}
	return cs[0], nil
}

const configOrder = ` ORDER BY kind, priority, created_at, id`

// Configurations returns every configuration: Mobile@Work ones first, by
// priority, then scripts, each kind oldest first.
func (s *Store) Configurations(ctx context.Context) ([]store.Configuration, error) {
	cs, err := s.queryConfigs(ctx, `SELECT `+configRead+` FROM configurations`+configOrder)
	if err != nil {
		return nil, fmt.Errorf("list configurations: %w", err)
	}
	return cs, nil
}

// reachWhere is the condition on a targets table (its kind and value
// columns) that picks the rows naming this device, its user, one of their
// groups, or everyone: what the reach indexes answer. Its arguments are
// $1 to $6.
func reachWhere(a distribution.Audience, kindCol, valueCol string) (string, []any) {
	k, v := kindCol, valueCol
	where := `(` + k + ` = 'all'
	OR (` + k + ` = 'device' AND ` + v + ` = $1)
	OR (` + k + ` = 'user' AND ` + v + ` = $2 AND $2 <> '')
	OR (` + k + ` = $3 AND ` + v + ` = ANY ($4))
	OR (` + k + ` = $5 AND ` + v + ` = ANY ($6)))`
	return where, []any{a.DeviceID, strings.ToLower(a.User),
		distribution.DeviceGroup, nonNil(a.DeviceGroups), distribution.UserGroup, nonNil(a.UserGroups)}
}

// ConfigurationsFor looks up, through config_targets_reach, the
// configurations with a target naming this device, its user, or one of
// their groups, or everyone.
func (s *Store) ConfigurationsFor(ctx context.Context, a distribution.Audience) ([]store.Configuration, error) {
	where, args := reachWhere(a, "kind", "value")
	q := `SELECT ` + configRead + ` FROM configurations WHERE id IN (
	SELECT config_id FROM config_targets WHERE ` + where + `)` + configOrder
	cs, err := s.queryConfigs(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("configurations for device %s: %w", a.DeviceID, err)
	}
	return cs, nil
}

// DeleteConfiguration removes a configuration; its targets and statuses go
// with it (ON DELETE CASCADE).
func (s *Store) DeleteConfiguration(ctx context.Context, id string) error {
	if err := rowsAffected(s.db().Exec(ctx, `DELETE FROM configurations WHERE id = $1`, id)); err != nil {
		return fmt.Errorf("delete configuration %s: %w", id, err)
	}
	return nil
}

// SetPriorities numbers the configurations 1, 2, ... in the order given.
func (s *Store) SetPriorities(ctx context.Context, ids []string, at time.Time) error {
	err := s.tx(ctx, func(q db) error {
		for i, id := range ids {
			err := rowsAffected(q.Exec(ctx, `UPDATE configurations SET priority = $1,
	updated_at = CASE WHEN priority = $1 THEN updated_at ELSE $2 END WHERE id = $3`, i+1, at, id))
			if err != nil {
				return fmt.Errorf("configuration %s: %w", id, err)
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
	rows, err := s.db().Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Configuration, error) { return scanConfig(r) })
	if err != nil || len(out) == 0 {
		return nil, err
	}
	index := map[string]int{}
	ids := make([]string, 0, len(out))
	for i, c := range out {
		index[c.ID] = i
		ids = append(ids, c.ID)
	}
	trows, err := s.db().Query(ctx, `SELECT config_id, kind, value FROM config_targets WHERE config_id = ANY ($1)
ORDER BY config_id, kind, value`, ids)
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

func scanConfig(r pgx.Row) (store.Configuration, error) {
	var (
		c                       store.Configuration
		settings, inputs, sched []byte
		scriptID                *string
		expires                 *time.Time
	)
	if err := r.Scan(&c.ID, &c.Kind, &c.Name, &c.Description, &c.Version, &c.Priority, &settings, &scriptID,
		&inputs, &sched, &c.Script.RunAs, &c.CreatedAt, &c.UpdatedAt, &expires, &c.Script.Retries); err != nil {
		return store.Configuration{}, err
	}
	if scriptID != nil {
		c.Script.ScriptID = *scriptID
	}
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
	c.CreatedAt, c.UpdatedAt, c.ExpiresAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC(), fromNull(expires)
	return c, nil
}
