package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
)

// Config returns every stored key/value pair; an empty configuration is an
// empty map, not an error.
func (s *Store) Config(ctx context.Context) (map[string]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT key, value FROM config`)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	defer rows.Close()
	kv := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, fmt.Errorf("read config: %w", err)
		}
		kv[k] = v
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return kv, nil
}

// SetConfig writes all pairs in one transaction, replacing existing values,
// so a reader sees either none or all of them.
func (s *Store) SetConfig(ctx context.Context, kv map[string]string) error {
	keys := make([]string, 0, len(kv))
	for k := range kv {
		keys = append(keys, k)
	}
	sort.Strings(keys) // a deterministic write order makes failures reproducible
	err := s.tx(ctx, func(tx *sql.Tx) error {
		for _, k := range keys {
			if _, err := tx.ExecContext(ctx, `
INSERT INTO config (key, value) VALUES (?, ?)
ON CONFLICT (key) DO UPDATE SET value = excluded.value`, k, kv[k]); err != nil {
				return fmt.Errorf("key %s: %w", k, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("set config: %w", err)
	}
	return nil
}
