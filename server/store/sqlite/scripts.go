package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/mobileatwork/mobileatwork/server/store"
)

const scriptColumns = `id, name, description, inputs, version, sha256, size, blob_sha256, blob_key, created_at, updated_at`

// CreateScript stores a script at version 1 with its first version row; an
// existing id is store.ErrExists.
func (s *Store) CreateScript(ctx context.Context, sc store.Script) error {
	in, err := marshalJSON(inputsOrEmpty(sc.Inputs))
	if err != nil {
		return fmt.Errorf("create script %s: %w", sc.ID, err)
	}
	sc.Version = 1
	if sc.UpdatedAt.IsZero() {
		sc.UpdatedAt = sc.CreatedAt
	}
	err = s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `
INSERT INTO scripts (`+scriptColumns+`)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO NOTHING`,
			sc.ID, sc.Name, sc.Description, in, sc.Version, sc.SHA256, sc.Size, sc.BlobSHA256, keyOrEmpty(sc.BlobKey),
			formatTime(sc.CreatedAt), formatTime(sc.CreatedAt))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return store.ErrExists
		}
		return insertScriptVersion(ctx, tx, sc.ID, sc.Version, sc)
	})
	if err != nil {
		return fmt.Errorf("create script %s: %w", sc.ID, err)
	}
	return nil
}

func insertScriptVersion(ctx context.Context, tx *sql.Tx, id string, version int, sc store.Script) error {
	_, err := tx.ExecContext(ctx, `
INSERT INTO script_versions (script_id, version, sha256, size, blob_sha256, blob_key, created_at)
VALUES (?, ?, ?, ?, ?, ?, ?)`,
		id, version, sc.SHA256, sc.Size, sc.BlobSHA256, keyOrEmpty(sc.BlobKey), formatTime(sc.UpdatedAt))
	return err
}

// UpdateScript replaces name, description and inputs, and adds a version
// (bumping the configurations that use the script) when sc.Version is the
// stored version plus one.
func (s *Store) UpdateScript(ctx context.Context, sc store.Script) error {
	in, err := marshalJSON(inputsOrEmpty(sc.Inputs))
	if err != nil {
		return fmt.Errorf("update script %s: %w", sc.ID, err)
	}
	err = s.tx(ctx, func(tx *sql.Tx) error {
		var current int
		err := tx.QueryRowContext(ctx, `SELECT version FROM scripts WHERE id = ?`, sc.ID).Scan(&current)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		} else if err != nil {
			return err
		}
		switch sc.Version {
		case current:
			_, err = tx.ExecContext(ctx, `UPDATE scripts SET name = ?, description = ?, inputs = ?, updated_at = ? WHERE id = ?`,
				sc.Name, sc.Description, in, formatTime(sc.UpdatedAt), sc.ID)
			return err
		case current + 1:
		default:
			return fmt.Errorf("version %d does not follow the stored version %d", sc.Version, current)
		}
		if _, err := tx.ExecContext(ctx, `
UPDATE scripts SET name = ?, description = ?, inputs = ?, version = ?, sha256 = ?, size = ?, blob_sha256 = ?,
	blob_key = ?, updated_at = ?
WHERE id = ?`,
			sc.Name, sc.Description, in, sc.Version, sc.SHA256, sc.Size, sc.BlobSHA256, keyOrEmpty(sc.BlobKey),
			formatTime(sc.UpdatedAt), sc.ID); err != nil {
			return err
		}
		if err := insertScriptVersion(ctx, tx, sc.ID, sc.Version, sc); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE configurations SET version = version + 1, updated_at = ? WHERE script_id = ?`,
			formatTime(sc.UpdatedAt), sc.ID)
		return err
	})
	if err != nil {
		return fmt.Errorf("update script %s: %w", sc.ID, err)
	}
	return nil
}

// Script returns the script with this id, or store.ErrNotFound.
func (s *Store) Script(ctx context.Context, id string) (store.Script, error) {
	sc, err := scanScript(s.read.QueryRowContext(ctx, `SELECT `+scriptColumns+` FROM scripts WHERE id = ?`, id))
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
	rows, err := s.read.QueryContext(ctx, `SELECT `+scriptColumns+` FROM scripts ORDER BY created_at, id`)
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

// ScriptVersion returns one version of a script, or store.ErrNotFound.
func (s *Store) ScriptVersion(ctx context.Context, id string, version int) (store.ScriptVersion, error) {
	var (
		v       store.ScriptVersion
		created string
	)
	err := s.read.QueryRowContext(ctx, `
SELECT script_id, version, sha256, size, blob_sha256, blob_key, created_at
FROM script_versions WHERE script_id = ? AND version = ?`, id, version).
		Scan(&v.ScriptID, &v.Version, &v.SHA256, &v.Size, &v.BlobSHA256, &v.BlobKey, &created)
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err == nil {
		v.CreatedAt, err = parseTime(created)
	}
	if err != nil {
		return store.ScriptVersion{}, fmt.Errorf("get script %s version %d: %w", id, version, err)
	}
	return v, nil
}

// DeleteScript removes a script and its versions, refusing while a
// configuration uses it.
func (s *Store) DeleteScript(ctx context.Context, id string) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM configurations WHERE script_id = ?`, id).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return store.ErrInUse
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM scripts WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return store.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete script %s: %w", id, err)
	}
	return nil
}

func scanScript(r scanner) (store.Script, error) {
	var (
		sc                store.Script
		inputs, createdAt string
		updatedAt         sql.NullString
	)
	if err := r.Scan(&sc.ID, &sc.Name, &sc.Description, &inputs, &sc.Version, &sc.SHA256, &sc.Size,
		&sc.BlobSHA256, &sc.BlobKey, &createdAt, &updatedAt); err != nil {
		return store.Script{}, err
	}
	if err := unmarshalJSON(inputs, &sc.Inputs); err != nil {
		return store.Script{}, err
	}
	if len(sc.Inputs) == 0 {
		sc.Inputs = nil
	}
	var err error
	if sc.CreatedAt, err = parseTime(createdAt); err != nil {
		return store.Script{}, err
	}
	sc.UpdatedAt = sc.CreatedAt
	if updatedAt.Valid {
		sc.UpdatedAt, err = parseTime(updatedAt.String)
	}
	return sc, err
}

func inputsOrEmpty(in []store.InputDecl) []store.InputDecl {
	if in == nil {
		return []store.InputDecl{}
	}
	return in
}

// keyOrEmpty binds a nil key as an empty blob: the column is NOT NULL and a
// nil []byte binds as NULL.
func keyOrEmpty(k []byte) []byte {
	if k == nil {
		return []byte{}
	}
	return k
}

// ReplaceScriptBlob points one version, and the script when it is its
// current version, at another blob of the same body.
func (s *Store) ReplaceScriptBlob(ctx context.Context, id string, version int, blobSHA256 string, key []byte) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE script_versions SET blob_sha256 = ?, blob_key = ? WHERE script_id = ? AND version = ?`,
			blobSHA256, keyOrEmpty(key), id, version)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return store.ErrNotFound
		}
		_, err = tx.ExecContext(ctx, `UPDATE scripts SET blob_sha256 = ?, blob_key = ? WHERE id = ? AND version = ?`,
			blobSHA256, keyOrEmpty(key), id, version)
		return err
	})
	if err != nil {
		return fmt.Errorf("replace blob of script %s version %d: %w", id, version, err)
	}
	return nil
}
