package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/mobileatwork/mobileatwork/server/store"
)

const appColumns = `id, name, kind, package_id, bundle_id, version, priority, file_sha256, file_size, created_at`

// CreateApp adds an entry to the app catalog; an existing id is
// store.ErrExists.
func (s *Store) CreateApp(ctx context.Context, a store.App) error {
	tag, err := s.db().Exec(ctx, `
INSERT INTO apps (`+appColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
ON CONFLICT (id) DO NOTHING`,
		a.ID, a.Name, a.Kind, a.PackageID, a.BundleID, a.Version, a.Priority, a.FileSHA256, a.FileSize, a.CreatedAt)
	if err != nil {
		return fmt.Errorf("create app %s: %w", a.ID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("create app %s: %w", a.ID, store.ErrExists)
	}
	return nil
}

// App returns the catalog entry with this id, or store.ErrNotFound.
func (s *Store) App(ctx context.Context, id string) (store.App, error) {
	a, err := scanApp(s.db().QueryRow(ctx, `SELECT `+appColumns+` FROM apps WHERE id = $1`, id))
	if err != nil {
		return store.App{}, fmt.Errorf("get app %s: %w", id, notFound(err))
	}
	return a, nil
}

// Apps returns the whole catalog, the oldest entry first.
func (s *Store) Apps(ctx context.Context) ([]store.App, error) {
	rows, err := s.db().Query(ctx, `SELECT `+appColumns+` FROM apps ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list apps: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.App, error) { return scanApp(r) })
	if err != nil {
		return nil, fmt.Errorf("list apps: %w", err)
	}
	return out, nil
}

func scanApp(r pgx.Row) (store.App, error) {
	var a store.App
	err := r.Scan(&a.ID, &a.Name, &a.Kind, &a.PackageID, &a.BundleID, &a.Version, &a.Priority,
		&a.FileSHA256, &a.FileSize, &a.CreatedAt)
	a.CreatedAt = a.CreatedAt.UTC()
	return a, err
}
