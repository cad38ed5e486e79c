package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/mobileatwork/mobileatwork/server/store"
)

// PutUser adds a user or, when u.Name is set, renames a known one.
func (s *Store) PutUser(ctx context.Context, u store.User) error {
	_, err := s.db.ExecContext(ctx, `
INSERT INTO users (email, name, created_at) VALUES (?, ?, ?)
ON CONFLICT (email) DO UPDATE SET name = CASE WHEN excluded.name = '' THEN users.name ELSE excluded.name END`,
		strings.ToLower(u.Email), u.Name, formatTime(u.CreatedAt))
	if err != nil {
		return fmt.Errorf("put user %s: %w", u.Email, err)
	}
	return nil
}

// User returns the user with this email, or store.ErrNotFound.
func (s *Store) User(ctx context.Context, email string) (store.User, error) {
	var u store.User
	var created string
	err := s.read.QueryRowContext(ctx, `SELECT email, name, created_at FROM users WHERE email = ?`, strings.ToLower(email)).
		Scan(&u.Email, &u.Name, &created)
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err == nil {
		u.CreatedAt, err = parseTime(created)
	}
	if err != nil {
		return store.User{}, fmt.Errorf("get user %s: %w", email, err)
	}
	return u, nil
}

// Users returns every user, by email.
func (s *Store) Users(ctx context.Context) ([]store.User, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT email, name, created_at FROM users ORDER BY email`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var out []store.User
	for rows.Next() {
		var u store.User
		var created string
		if err := rows.Scan(&u.Email, &u.Name, &created); err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		if u.CreatedAt, err = parseTime(created); err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return out, nil
}

// CreateUserGroup stores a group and its members in one transaction.
func (s *Store) CreateUserGroup(ctx context.Context, g store.UserGroup) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO user_groups (name, description, created_at) VALUES (?, ?, ?)`,
			g.Name, g.Description, formatTime(g.CreatedAt))
		if isUniqueViolation(err) {
			return store.ErrExists
		}
		if err != nil {
			return err
		}
		return putMembers(ctx, tx, g.Name, g.Members)
	})
	if err != nil {
		return fmt.Errorf("create user group %s: %w", g.Name, err)
	}
	return nil
}

func putMembers(ctx context.Context, tx *sql.Tx, group string, members []string) error {
	for _, m := range members {
		_, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO user_group_members (group_name, email) VALUES (?, ?)`, group, strings.ToLower(m))
		if isForeignKeyViolation(err) {
			return fmt.Errorf("user %s: %w", m, store.ErrNotFound)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// SetUserGroupMembers replaces the members of a group.
func (s *Store) SetUserGroupMembers(ctx context.Context, name string, members []string) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM user_groups WHERE name = ?`, name).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		} else if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM user_group_members WHERE group_name = ?`, name); err != nil {
			return err
		}
		return putMembers(ctx, tx, name, members)
	})
	if err != nil {
		return fmt.Errorf("set members of user group %s: %w", name, err)
	}
	return nil
}

// UserGroup returns one group with its members.
func (s *Store) UserGroup(ctx context.Context, name string) (store.UserGroup, error) {
	gs, err := s.queryUserGroups(ctx, `WHERE name = ?`, name)
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

func (s *Store) queryUserGroups(ctx context.Context, where string, args ...any) ([]store.UserGroup, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT name, description, created_at FROM user_groups `+where+` ORDER BY name`, args...)
	if err != nil {
		return nil, err
	}
	var out []store.UserGroup
	for rows.Next() {
		var g store.UserGroup
		var created string
		if err := rows.Scan(&g.Name, &g.Description, &created); err != nil {
			rows.Close()
			return nil, err
		}
		if g.CreatedAt, err = parseTime(created); err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, g)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		m, err := s.queryStrings(ctx, `SELECT email FROM user_group_members WHERE group_name = ? ORDER BY email`, out[i].Name)
		if err != nil {
			return nil, err
		}
		out[i].Members = m
	}
	return out, nil
}

// UserGroupsOf returns the groups the user is a member of, by name.
func (s *Store) UserGroupsOf(ctx context.Context, email string) ([]string, error) {
	gs, err := s.queryStrings(ctx, `SELECT group_name FROM user_group_members WHERE email = ? ORDER BY group_name`, strings.ToLower(email))
	if err != nil {
		return nil, fmt.Errorf("user groups of %s: %w", email, err)
	}
	return gs, nil
}

func (s *Store) queryStrings(ctx context.Context, q string, args ...any) ([]string, error) {
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
