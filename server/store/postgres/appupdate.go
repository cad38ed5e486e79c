package postgres

import (
	"context"
	"fmt"

	"github.com/mobileatwork/mobileatwork/server/store"
)

// UpdateAppPackage moves a catalog entry to a new version and PKG, or
// returns store.ErrNotFound.
func (s *Store) UpdateAppPackage(ctx context.Context, id, version, fileSHA256 string, fileSize int64) error {
	tag, err := s.db().Exec(ctx, `UPDATE apps SET version = $1, file_sha256 = $2, file_size = $3 WHERE id = $4`,
		version, fileSHA256, fileSize, id)
	if err != nil {
		return fmt.Errorf("update app %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("update app %s: %w", id, store.ErrNotFound)
	}
	return nil
}
