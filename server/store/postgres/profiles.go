package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/mobileatwork/mobileatwork/server/distribution"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// CreateProfile stores a configuration of the onboarding plan; an existing
// id or identifier is store.ErrExists.
func (s *Store) CreateProfile(ctx context.Context, p store.Profile) error {
	return s.tx(ctx, func(q db) error {
		tag, err := q.Exec(ctx, `INSERT INTO profiles (id, name, identifier, created_at) VALUES ($1, $2, $3, $4)
ON CONFLICT DO NOTHING`, p.ID, p.Name, p.Identifier, p.CreatedAt)
		if err != nil {
			return fmt.Errorf("create profile %s: %w", p.ID, err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("create profile %s (%s): %w", p.ID, strings.TrimSpace(p.Identifier), store.ErrExists)
		}
		return putProfileTargets(ctx, q, p.ID, p.Targets)
	})
}

func putProfileTargets(ctx context.Context, q db, id string, ts []distribution.Target) error {
	if _, err := q.Exec(ctx, `DELETE FROM profile_targets WHERE profile_id = $1`, id); err != nil {
		return err
	}
	for _, t := range ts {
		if _, err := q.Exec(ctx, `INSERT INTO profile_targets (profile_id, kind, value) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
			id, t.Kind, t.Value); err != nil {
			return fmt.Errorf("profile %s target %s: %w", id, t, err)
		}
	}
	return nil
}

// SetProfileTargets replaces a profile's distribution.
func (s *Store) SetProfileTargets(ctx context.Context, id string, targets []distribution.Target) error {
	err := s.tx(ctx, func(q db) error {
		var one int
		if err := q.QueryRow(ctx, `SELECT 1 FROM profiles WHERE id = $1 FOR UPDATE`, id).Scan(&one); err != nil {
			return notFound(err)
		}
		return putProfileTargets(ctx, q, id, targets)
	})
	if err != nil {
		return fmt.Errorf("distribute profile %s: %w", id, err)
	}
	return nil
}

// Profiles returns every configuration, the oldest first, with targets.
func (s *Store) Profiles(ctx context.Context) ([]store.Profile, error) {
	return s.queryProfiles(ctx, "")
}

// ProfilesFor looks up, through profile_targets_reach, the profiles with a
// target naming this device, its user, one of their groups, or everyone;
// each comes with all its targets.
func (s *Store) ProfilesFor(ctx context.Context, a distribution.Audience) ([]store.Profile, error) {
	where, args := reachWhere(a, "kind", "value")
	return s.queryProfiles(ctx, "WHERE p.id IN (SELECT profile_id FROM profile_targets WHERE "+where+")", args...)
}

func (s *Store) queryProfiles(ctx context.Context, where string, args ...any) ([]store.Profile, error) {
	rows, err := s.db().Query(ctx, `SELECT p.id, p.name, p.identifier, p.created_at,
	COALESCE((SELECT array_agg(t.kind ORDER BY t.kind, t.value) FROM profile_targets t WHERE t.profile_id = p.id), '{}'),
	COALESCE((SELECT array_agg(t.value ORDER BY t.kind, t.value) FROM profile_targets t WHERE t.profile_id = p.id), '{}')
FROM profiles p `+where+` ORDER BY p.created_at, p.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list profiles: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Profile, error) {
		var (
			p             store.Profile
			kinds, values []string
		)
		if err := r.Scan(&p.ID, &p.Name, &p.Identifier, &p.CreatedAt, &kinds, &values); err != nil {
			return p, err
		}
		p.CreatedAt = p.CreatedAt.UTC()
		for i := range kinds {
			p.Targets = append(p.Targets, distribution.Target{Kind: kinds[i], Value: values[i]})
		}
		return p, nil
	})
	if err != nil {
		return nil, fmt.Errorf("list profiles: %w", err)
	}
	return out, nil
}
