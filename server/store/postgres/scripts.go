package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

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
	err = s.tx(ctx, func(q db) error {
		tag, err := q.Exec(ctx, `
INSERT INTO scripts (`+scriptColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)
ON CONFLICT (id) DO NOTHING`,
			sc.ID, sc.Name, sc.Description, in, sc.Version, sc.SHA256, sc.Size, sc.BlobSHA256, keyOrEmpty(sc.BlobKey), sc.CreatedAt)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return store.ErrExists
		}
		return insertScriptVersion(ctx, q, sc)
	})
	if err != nil {
		return fmt.Errorf("create script %s: %w", sc.ID, err)
	}
	return nil
}

func insertScriptVersion(ctx context.Context, q db, sc store.Script) error {
	_, err := q.Exec(ctx, `
INSERT INTO script_versions (script_id, version, sha256, size, blob_sha256, blob_key, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		sc.ID, sc.Version, sc.SHA256, sc.Size, sc.BlobSHA256, keyOrEmpty(sc.BlobKey), sc.UpdatedAt)
	return err
}

// UpdateScript replaces name, description and inputs, and adds a version
// (bumping the configurations that use the script) when sc.Version is the
// stored version plus one. The script row stays locked until commit, so two
// updates cannot both add the same version.
func (s *Store) UpdateScript(ctx context.Context, sc store.Script) error {
	in, err := marshalJSON(inputsOrEmpty(sc.Inputs))
	if err != nil {
		return fmt.Errorf("update script %s: %w", sc.ID, err)
	}
	err = s.tx(ctx, func(q db) error {
		var current int
		if err := q.QueryRow(ctx, `SELECT version FROM scripts WHERE id = $1 FOR UPDATE`, sc.ID).Scan(&current); err != nil {
			return notFound(err)
		}
		switch sc.Version {
		case current:
			_, err := q.Exec(ctx, `UPDATE scripts SET name = $1, description = $2, inputs = $3, updated_at = $4 WHERE id = $5`,
				sc.Name, sc.Description, in, sc.UpdatedAt, sc.ID)
			return err
		case current + 1:
		default:
			return fmt.Errorf("version %d does not follow the stored version %d", sc.Version, current)
		}
		if _, err := q.Exec(ctx, `
UPDATE scripts SET name = $1, description = $2, inputs = $3, version = $4, sha256 = $5, size = $6, blob_sha256 = $7,
	blob_key = $8, updated_at = $9
WHERE id = $10`,
			sc.Name, sc.Description, in, sc.Version, sc.SHA256, sc.Size, sc.BlobSHA256, keyOrEmpty(sc.BlobKey),
			sc.UpdatedAt, sc.ID); err != nil {
			return err
		}
		if err := insertScriptVersion(ctx, q, sc); err != nil {
			return err
		}
		_, err := q.Exec(ctx, `UPDATE configurations SET version = version + 1, updated_at = $1 WHERE script_id = $2`,
			sc.UpdatedAt, sc.ID)
		return err
	})
	if err != nil {
		return fmt.Errorf("update script %s: %w", sc.ID, err)
	}
	return nil
}

// Script returns the script with this id, or store.ErrNotFound.
func (s *Store) Script(ctx context.Context, id string) (store.Script, error) {
	sc, err := scanScript(s.db().QueryRow(ctx, `SELECT `+scriptColumns+` FROM scripts WHERE id = $1`, id))
	if err != nil {
		return store.Script{}, fmt.Errorf("get script %s: %w", id, notFound(err))
	}
	return sc, nil
}

// Scripts returns every script, the oldest first.
func (s *Store) Scripts(ctx context.Context) ([]store.Script, error) {
	rows, err := s.db().Query(ctx, `SELECT `+scriptColumns+` FROM scripts ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list scripts: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Script, error) { return scanScript(r) })
	if err != nil {
		return nil, fmt.Errorf("list scripts: %w", err)
	}
	return out, nil
}

// ScriptVersion returns one version of a script, or store.ErrNotFound.
func (s *Store) ScriptVersion(ctx context.Context, id string, version int) (store.ScriptVersion, error) {
	var v store.ScriptVersion
	err := s.db().QueryRow(ctx, `
SELECT script_id, version, sha256, size, blob_sha256, blob_key, created_at
FROM script_versions WHERE script_id = $1 AND version = $2`, id, version).
		Scan(&v.ScriptID, &v.Version, &v.SHA256, &v.Size, &v.BlobSHA256, &v.BlobKey, &v.CreatedAt)
	if err != nil {
		return store.ScriptVersion{}, fmt.Errorf("get script %s version %d: %w", id, version, notFound(err))
	}
	v.CreatedAt = v.CreatedAt.UTC()
	return v, nil
}

// DeleteScript removes a script and its versions, refusing while a
// configuration uses it. The script row is locked first, so a
// configuration that starts using it waits and then fails on its foreign
// key.
func (s *Store) DeleteScript(ctx context.Context, id string) error {
	err := s.tx(ctx, func(q db) error {
		var one int
		if err := q.QueryRow(ctx, `SELECT 1 FROM scripts WHERE id = $1 FOR UPDATE`, id).Scan(&one); err != nil {
			return notFound(err)
		}
		var used bool
		if err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM configurations WHERE script_id = $1)`, id).Scan(&used); err != nil {
			return err
		}
		if used {
			return store.ErrInUse
		}
		_, err := q.Exec(ctx, `DELETE FROM scripts WHERE id = $1`, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete script %s: %w", id, err)
	}
	return nil
}

func scanScript(r pgx.Row) (store.Script, error) {
	var (
		sc     store.Script
		inputs []byte
	)
	if err := r.Scan(&sc.ID, &sc.Name, &sc.Description, &inputs, &sc.Version, &sc.SHA256, &sc.Size,
		&sc.BlobSHA256, &sc.BlobKey, &sc.CreatedAt, &sc.UpdatedAt); err != nil {
		return store.Script{}, err
	}
	if err := unmarshalJSON(inputs, &sc.Inputs); err != nil {
		return store.Script{}, err
	}
	if len(sc.Inputs) == 0 {
		sc.Inputs = nil
	}
	sc.CreatedAt, sc.UpdatedAt = sc.CreatedAt.UTC(), sc.UpdatedAt.UTC()
	return sc, nil
}

func inputsOrEmpty(in []store.InputDecl) []store.InputDecl {
	if in == nil {
		return []store.InputDecl{}
	}
	return in
}

// keyOrEmpty binds a nil key as an empty bytea: the column is NOT NULL and
// a nil []byte binds as NULL.
func keyOrEmpty(k []byte) []byte {
	if k == nil {
		return []byte{}
	}
	return k
}

// ReplaceScriptBlob points one version, and the script when it is its
// current version, at another blob of the same body.
func (s *Store) ReplaceScriptBlob(ctx context.Context, id string, version int, blobSHA256 string, key []byte) error {
	err := s.tx(ctx, func(q db) error {
		if err := rowsAffected(q.Exec(ctx, `UPDATE script_versions SET blob_sha256 = $1, blob_key = $2 WHERE script_id = $3 AND version = $4`,
			blobSHA256, keyOrEmpty(key), id, version)); err != nil {
			return err
		}
		_, err := q.Exec(ctx, `UPDATE scripts SET blob_sha256 = $1, blob_key = $2 WHERE id = $3 AND version = $4`,
			blobSHA256, keyOrEmpty(key), id, version)
		return err
	})
	if err != nil {
		return fmt.Errorf("replace blob of script %s version %d: %w", id, version, err)
	}
	return nil
}
