package sqlite

import (
	"context"
	"fmt"

	"github.com/mobileatwork/mobileatwork/server/store"
)

// UpdateAppPackage moves a catalog entry to a new version and PKG, or
// returns store.ErrNotFound.
func (s *Store) UpdateAppPackage(ctx context.Context, id, version, fileSHA256 string, fileSize int64) error {
	res, err := s.db.ExecContext(ctx, `UPDATE apps SET version = ?, file_sha256 = ?, file_size = ? WHERE id = ?`,
		version, fileSHA256, fileSize, id)
	if err != nil {
		return fmt.Errorf("update app %s: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("update app %s: %w", id, err)
	} else if n == 0 {
		return fmt.Errorf("update app %s: %w", id, store.ErrNotFound)
	}
	return nil
}
