package sqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/mobileatwork/mobileatwork/server/store"
)

// CreateProfile stores a configuration of the onboarding plan; an existing
// id or identifier is store.ErrExists.
func (s *Store) CreateProfile(ctx context.Context, p store.Profile) error {
	res, err := s.db.ExecContext(ctx, `
INSERT INTO profiles (id, name, identifier, created_at) VALUES (?, ?, ?, ?)
ON CONFLICT DO NOTHING`, p.ID, p.Name, p.Identifier, formatTime(p.CreatedAt))
	if err != nil {
		return fmt.Errorf("create profile %s: %w", p.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("create profile %s: %w", p.ID, err)
	} else if n == 0 {
		return fmt.Errorf("create profile %s (%s): %w", p.ID, strings.TrimSpace(p.Identifier), store.ErrExists)
	}
	return nil
}

// Profiles returns every configuration, the oldest first.
func (s *Store) Profiles(ctx context.Context) ([]store.Profile, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, name, identifier, created_at FROM profiles ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list profiles: %w", err)
	}
	defer rows.Close()
	var out []store.Profile
	for rows.Next() {
		var (
			p       store.Profile
			created string
		)
		if err := rows.Scan(&p.ID, &p.Name, &p.Identifier, &created); err != nil {
			return nil, fmt.Errorf("list profiles: %w", err)
		}
		if p.CreatedAt, err = parseTime(created); err != nil {
			return nil, fmt.Errorf("list profiles: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list profiles: %w", err)
	}
	return out, nil
}
