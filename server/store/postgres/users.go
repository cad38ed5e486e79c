package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/mobileatwork/mobileatwork/server/store"
)

// PutUser adds a user or, when u.Name is set, renames a known one.
func (s *Store) PutUser(ctx context.Context, u store.User) error {
	_, err := s.db().Exec(ctx, `
INSERT INTO users (email, name, created_at) VALUES ($1, $2, $3)
ON CONFLICT (email) DO UPDATE SET name = CASE WHEN excluded.name = '' THEN users.name ELSE excluded.name END`,
		strings.ToLower(u.Email), u.Name, u.CreatedAt)
	if err != nil {
		return fmt.Errorf("put user %s: %w", u.Email, err)
	}
	return nil
}

// User returns the user with this email, or store.ErrNotFound.
func (s *Store) User(ctx context.Context, email string) (store.User, error) {
	rows, err := s.db().Query(ctx, `SELECT email, name, created_at FROM users WHERE email = $1`, strings.ToLower(email))
	if err == nil {
		var u store.User
		u, err = pgx.CollectExactlyOneRow(rows, scanUser)
		if err == nil {
			return u, nil
		}
	}
	return store.User{}, fmt.Errorf("get user %s: %w", email, notFound(err))
}

// Users returns every user, by email.
func (s *Store) Users(ctx context.Context) ([]store.User, error) {
	rows, err := s.db().Query(ctx, `SELECT email, name, created_at FROM users ORDER BY email`)
	if err == nil {
		var out []store.User
		if out, err = pgx.CollectRows(rows, scanUser); err == nil {
			return out, nil
		}
	}
	return nil, fmt.Errorf("list users: %w", err)
}

func scanUser(r pgx.CollectableRow) (store.User, error) {
	var u store.User
	err := r.Scan(&u.Email, &u.Name, &u.CreatedAt)
	u.CreatedAt = u.CreatedAt.UTC()
	return u, err
}

// CreateUserGroup stores a group and its members in one transaction.
func (s *Store) CreateUserGroup(ctx context.Context, g store.UserGroup) error {
	err := s.tx(ctx, func(q db) error {
		_, err := q.Exec(ctx, `INSERT INTO user_groups (name, description, created_at) VALUES ($1, $2, $3)`,
			g.Name, g.Description, g.CreatedAt)
		if isUniqueViolation(err) {
			return store.ErrExists
		}
		if err != nil {
			return err
		}
		return putMembers(ctx, q, g.Name, g.Members)
	})
	if err != nil {
		return fmt.Errorf("create user group %s: %w", g.Name, err)
	}
	return nil
}

func putMembers(ctx context.Context, q db, group string, members []string) error {
	for _, m := range members {
		_, err := q.Exec(ctx, `INSERT INTO user_group_members (group_name, email) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
			group, strings.ToLower(m))
		if isForeignKeyViolation(err) {
			return fmt.Errorf("user %s: %w", m, store.ErrNotFound)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// SetUserGroupMembers replaces the members of a group; the group row is
// locked so two replacements do not interleave.
func (s *Store) SetUserGroupMembers(ctx context.Context, name string, members []string) error {
	err := s.tx(ctx, func(q db) error {
		var one int
		if err := q.QueryRow(ctx, `SELECT 1 FROM user_groups WHERE name = $1 FOR UPDATE`, name).Scan(&one); err != nil {
			return notFound(err)
		}
		if _, err := q.Exec(ctx, `DELETE FROM user_group_members WHERE group_name = $1`, name); err != nil {
			return err
		}
		return putMembers(ctx, q, name, members)
	})
	if err != nil {
		return fmt.Errorf("set members of user group %s: %w", name, err)
	}
	return nil
}

// UserGroup returns one group with its members.
func (s *Store) UserGroup(ctx context.Context, name string) (store.UserGroup, error) {
	gs, err := s.queryUserGroups(ctx, `WHERE name = $1`, name)
	if err == nil && len(gs) == 0 {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.UserGroup{}, fmt.Errorf("get user group %s: %w", name, err)
	}
	return gs[0], nil
}

// UserGroups returns every group with its members, by name.
func (s *Store) UserGroups(ctx context.Context) ([]store.UserGroup, error) {
	gs, err := s.queryUserGroups(ctx, ``)
	if err != nil {
		return nil, fmt.Errorf("list user groups: %w", err)
	}
	return gs, nil
}

// queryUserGroups reads the groups and their members in one statement.
func (s *Store) queryUserGroups(ctx context.Context, where string, args ...any) ([]store.UserGroup, error) {
	rows, err := s.db().Query(ctx, `SELECT g.name, g.description, g.created_at,
	COALESCE((SELECT array_agg(m.email ORDER BY m.email) FROM user_group_members m WHERE m.group_name = g.name), '{}')
FROM user_groups g `+where+` ORDER BY g.name`, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.UserGroup, error) {
		var g store.UserGroup
		err := r.Scan(&g.Name, &g.Description, &g.CreatedAt, &g.Members)
		g.CreatedAt, g.Members = g.CreatedAt.UTC(), stringsOrNil(g.Members)
		return g, err
	})
}

// UserGroupsOf returns the groups the user is a member of, by name.
func (s *Store) UserGroupsOf(ctx context.Context, email string) ([]string, error) {
	rows, err := s.db().Query(ctx, `SELECT group_name FROM user_group_members WHERE email = $1 ORDER BY group_name`, strings.ToLower(email))
	if err == nil {
		var gs []string
		if gs, err = pgx.CollectRows(rows, pgx.RowTo[string]); err == nil {
			return stringsOrNil(gs), nil
		}
	}
	return nil, fmt.Errorf("user groups of %s: %w", email, err)
}
