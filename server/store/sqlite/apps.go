package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/mobileatwork/mobileatwork/server/store"
)

const appColumns = `id, name, kind, package_id, bundle_id, version, priority, file_sha256, file_size, created_at`

// CreateApp adds an entry to the app catalog; an existing id is
// store.ErrExists.
func (s *Store) CreateApp(ctx context.Context, a store.App) error {
	res, err := s.db.ExecContext(ctx, `
INSERT INTO apps (`+appColumns+`)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO NOTHING`,
		a.ID, a.Name, a.Kind, a.PackageID, a.BundleID, a.Version, a.Priority, a.FileSHA256, a.FileSize, formatTime(a.CreatedAt))
	if err != nil {
		return fmt.Errorf("create app %s: %w", a.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("create app %s: %w", a.ID, err)
	} else if n == 0 {
		return fmt.Errorf("create app %s: %w", a.ID, store.ErrExists)
	}
	return nil
}

// App returns the catalog entry with this id, or store.ErrNotFound.
func (s *Store) App(ctx context.Context, id string) (store.App, error) {
	a, err := scanApp(s.read.QueryRowContext(ctx, `SELECT `+appColumns+` FROM apps WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.App{}, fmt.Errorf("get app %s: %w", id, err)
	}
	return a, nil
}

// Apps returns the whole catalog, the oldest entry first.
func (s *Store) Apps(ctx context.Context) ([]store.App, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+appColumns+` FROM apps ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list apps: %w", err)
	}
	defer rows.Close()
	var out []store.App
	for rows.Next() {
		a, err := scanApp(rows)
		if err != nil {
			return nil, fmt.Errorf("list apps: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list apps: %w", err)
	}
	return out, nil
}

func scanApp(r scanner) (store.App, error) {
	var (
		a         store.App
		createdAt string
	)
	if err := r.Scan(&a.ID, &a.Name, &a.Kind, &a.PackageID, &a.BundleID, &a.Version, &a.Priority,
		&a.FileSHA256, &a.FileSize, &createdAt); err != nil {
		return store.App{}, err
	}
	var err error
	a.CreatedAt, err = parseTime(createdAt)
	return a, err
}
