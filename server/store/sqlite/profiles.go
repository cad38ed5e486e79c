package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/mobileatwork/mobileatwork/server/distribution"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// CreateProfile stores a configuration of the onboarding plan; an existing
// id or identifier is store.ErrExists.
func (s *Store) CreateProfile(ctx context.Context, p store.Profile) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `
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
		return putProfileTargets(ctx, tx, p.ID, p.Targets)
	})
}

func putProfileTargets(ctx context.Context, tx *sql.Tx, id string, ts []distribution.Target) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM profile_targets WHERE profile_id = ?`, id); err != nil {
		return err
	}
	for _, t := range ts {
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO profile_targets (profile_id, kind, value) VALUES (?, ?, ?)`,
			id, t.Kind, t.Value); err != nil {
			return fmt.Errorf("profile %s target %s: %w", id, t, err)
		}
	}
	return nil
}

// SetProfileTargets replaces a profile's distribution.
func (s *Store) SetProfileTargets(ctx context.Context, id string, targets []distribution.Target) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM profiles WHERE id = ?`, id).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		} else if err != nil {
			return err
		}
		return putProfileTargets(ctx, tx, id, targets)
	})
	if err != nil {
		return fmt.Errorf("distribute profile %s: %w", id, err)
	}
	return nil
}

// Profiles returns every configuration, the oldest first.
func (s *Store) Profiles(ctx context.Context) ([]store.Profile, error) {
	return s.queryProfiles(ctx, "")
}

// ProfilesFor looks up, through profile_targets_reach, the profiles with a
// target naming this device, its user, one of their groups, or everyone.
func (s *Store) ProfilesFor(ctx context.Context, a distribution.Audience) ([]store.Profile, error) {
	where, args := reachWhere(a, "kind", "value")
	return s.queryProfiles(ctx, "SELECT profile_id FROM profile_targets WHERE "+where, args...)
}

// queryProfiles lists the profiles whose id the subquery in returns (all
// when it is empty), with their targets.
func (s *Store) queryProfiles(ctx context.Context, in string, args ...any) ([]store.Profile, error) {
	where := ""
	if in != "" {
		where = "WHERE id IN (" + in + ")"
	}
	rows, err := s.read.QueryContext(ctx, `SELECT id, name, identifier, created_at FROM profiles `+where+` ORDER BY created_at, id`, args...)
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
	rows.Close()
	index := map[string]int{}
	for i, p := range out {
		index[p.ID] = i
	}
	if in != "" {
		where = "WHERE profile_id IN (" + in + ")"
	}
	trows, err := s.read.QueryContext(ctx, `SELECT profile_id, kind, value FROM profile_targets `+where+` ORDER BY profile_id, kind, value`, args...)
	if err != nil {
		return nil, fmt.Errorf("list profile targets: %w", err)
	}
	defer trows.Close()
	for trows.Next() {
		var id string
		var t distribution.Target
		if err := trows.Scan(&id, &t.Kind, &t.Value); err != nil {
			return nil, fmt.Errorf("list profile targets: %w", err)
		}
		if i, ok := index[id]; ok {
			out[i].Targets = append(out[i].Targets, t)
		}
	}
	if err := trows.Err(); err != nil {
		return nil, fmt.Errorf("list profile targets: %w", err)
	}
	return out, nil
}
