package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/mobileatwork/mobileatwork/server/store"
)

const scriptColumns = `id, name, sha256, size, blob_sha256, blob_key, inputs, created_at`

// CreateScript stores a script's metadata and blob key; an existing id is
// store.ErrExists.
func (s *Store) CreateScript(ctx context.Context, sc store.Script) error {
	inputs := sc.Inputs
	if inputs == nil {
		inputs = []store.InputDecl{}
	}
	in, err := marshalJSON(inputs)
	if err != nil {
		return fmt.Errorf("create script %s: %w", sc.ID, err)
	}
	key := sc.BlobKey
	if key == nil {
		key = []byte{} // NOT NULL column; a nil []byte binds as NULL
	}
	res, err := s.db.ExecContext(ctx, `
INSERT INTO scripts (`+scriptColumns+`)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO NOTHING`,
		sc.ID, sc.Name, sc.SHA256, sc.Size, sc.BlobSHA256, key, in, formatTime(sc.CreatedAt))
	if err != nil {
		return fmt.Errorf("create script %s: %w", sc.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("create script %s: %w", sc.ID, err)
	} else if n == 0 {
		return fmt.Errorf("create script %s: %w", sc.ID, store.ErrExists)
	}
	return nil
}

// Script returns the script with this id, or store.ErrNotFound.
func (s *Store) Script(ctx context.Context, id string) (store.Script, error) {
	sc, err := scanScript(s.db.QueryRowContext(ctx, `SELECT `+scriptColumns+` FROM scripts WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Script{}, fmt.Errorf("get script %s: %w", id, err)
	}
	return sc, nil
}

// Scripts returns every script, the oldest first.
func (s *Store) Scripts(ctx context.Context) ([]store.Script, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+scriptColumns+` FROM scripts ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list scripts: %w", err)
	}
	defer rows.Close()
	var out []store.Script
	for rows.Next() {
		sc, err := scanScript(rows)
		if err != nil {
			return nil, fmt.Errorf("list scripts: %w", err)
		}
		out = append(out, sc)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list scripts: %w", err)
	}
	return out, nil
}

func scanScript(r scanner) (store.Script, error) {
	var (
		sc                store.Script
		inputs, createdAt string
	)
	if err := r.Scan(&sc.ID, &sc.Name, &sc.SHA256, &sc.Size, &sc.BlobSHA256, &sc.BlobKey, &inputs, &createdAt); err != nil {
		return store.Script{}, err
	}
	if err := unmarshalJSON(inputs, &sc.Inputs); err != nil {
		return store.Script{}, err
	}
	if len(sc.Inputs) == 0 {
		sc.Inputs = nil
	}
	var err error
	sc.CreatedAt, err = parseTime(createdAt)
	return sc, err
}
