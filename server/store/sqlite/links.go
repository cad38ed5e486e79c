package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/mobileatwork/mobileatwork/server/store"
)

// linksSchema keeps the download links of enrolling packages and the
// tenant's own values (its public URLs).
const linksSchema = `
CREATE TABLE links (
	id               TEXT PRIMARY KEY,
	hash             BLOB NOT NULL UNIQUE,
	user             TEXT NOT NULL DEFAULT '',
	uses             INTEGER NOT NULL,
	downloads        INTEGER NOT NULL DEFAULT 0,
	last_download_at TEXT,
	expires_at       TEXT NOT NULL,
	created_at       TEXT NOT NULL,
	revoked_at       TEXT,
	package_sha256   TEXT NOT NULL DEFAULT '',
	package_size     INTEGER NOT NULL DEFAULT 0,
	token_id         TEXT NOT NULL DEFAULT '',
	built_at         TEXT
);
CREATE INDEX links_created_at ON links (created_at);

CREATE TABLE tenant_values (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
`

const linkColumns = `id, hash, user, uses, downloads, last_download_at, expires_at, created_at, revoked_at, package_sha256, package_size, token_id, built_at`

// CreateLink stores a new link; a taken id or hash is store.ErrExists.
func (s *Store) CreateLink(ctx context.Context, l store.Link) error {
	if l.ID == "" || len(l.Hash) == 0 {
		return errors.New("create link: empty id or hash")
	}
	res, err := s.db.ExecContext(ctx, `
INSERT INTO links (id, hash, user, uses, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT DO NOTHING`, l.ID, l.Hash, l.User, l.Uses, formatTime(l.ExpiresAt), formatTime(l.CreatedAt))
	if err != nil {
		return fmt.Errorf("create link: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("create link: %w", err)
	} else if n == 0 {
		return fmt.Errorf("create link: %w", store.ErrExists)
	}
	return nil
}

// LinkByHash returns the link whose secret has this hash.
func (s *Store) LinkByHash(ctx context.Context, hash []byte) (store.Link, error) {
	l, err := scanLink(s.read.QueryRowContext(ctx, `SELECT `+linkColumns+` FROM links WHERE hash = ?`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Link{}, fmt.Errorf("read link: %w", err)
	}
	return l, nil
}

// Links returns every link, the oldest first.
func (s *Store) Links(ctx context.Context) ([]store.Link, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+linkColumns+` FROM links ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list links: %w", err)
	}
	defer rows.Close()
	var out []store.Link
	for rows.Next() {
		l, err := scanLink(rows)
		if err != nil {
			return nil, fmt.Errorf("list links: %w", err)
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list links: %w", err)
	}
	return out, nil
}

// RevokeLink marks the link revoked, keeping a first revocation time.
func (s *Store) RevokeLink(ctx context.Context, id string, at time.Time) (store.Link, error) {
	var l store.Link
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE links SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, formatTime(at), id); err != nil {
			return err
		}
		var err error
		l, err = scanLink(tx.QueryRowContext(ctx, `SELECT `+linkColumns+` FROM links WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		return err
	})
	if err != nil {
		return store.Link{}, fmt.Errorf("revoke link %s: %w", id, err)
	}
	return l, nil
}

// SetLinkPackage records the link's package unless one is recorded.
func (s *Store) SetLinkPackage(ctx context.Context, id string, p store.Link) (store.Link, error) {
	var l store.Link
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `
UPDATE links SET package_sha256 = ?, package_size = ?, token_id = ?, built_at = ?
WHERE id = ? AND package_sha256 = ''`, p.PackageSHA256, p.PackageSize, p.TokenID, nullTime(p.BuiltAt), id); err != nil {
			return err
		}
		var err error
		l, err = scanLink(tx.QueryRowContext(ctx, `SELECT `+linkColumns+` FROM links WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		return err
	})
	if err != nil {
		return store.Link{}, fmt.Errorf("set link package %s: %w", id, err)
	}
	return l, nil
}

// CountLinkDownload takes one use of the link in one conditional UPDATE
// inside a write transaction, so the last use goes to one caller only.
func (s *Store) CountLinkDownload(ctx context.Context, id string, now time.Time) (store.Link, error) {
	var l store.Link
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		l, err = scanLink(tx.QueryRowContext(ctx, `
UPDATE links SET downloads = downloads + 1, last_download_at = ?
WHERE id = ? AND downloads < uses AND expires_at > ? AND revoked_at IS NULL
RETURNING `+linkColumns, formatTime(now), id, formatTime(now)))
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		l, err = scanLink(tx.QueryRowContext(ctx, `SELECT `+linkColumns+` FROM links WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		if err := l.Refusal(now); err != nil {
			return err
		}
		return store.ErrLinkExpired // refused by the UPDATE at now: its expiry is now
	})
	if err != nil {
		return store.Link{}, fmt.Errorf("count link download: %w", err)
	}
	return l, nil
}

func scanLink(r scanner) (store.Link, error) {
	var (
		l                    store.Link
		last, revoked, built sql.NullString
		expires, created     string
	)
	if err := r.Scan(&l.ID, &l.Hash, &l.User, &l.Uses, &l.Downloads, &last, &expires, &created, &revoked,
		&l.PackageSHA256, &l.PackageSize, &l.TokenID, &built); err != nil {
		return store.Link{}, err
	}
	var err error
	if l.ExpiresAt, err = parseTime(expires); err != nil {
		return store.Link{}, err
	}
	if l.CreatedAt, err = parseTime(created); err != nil {
		return store.Link{}, err
	}
	if l.LastDownloadAt, err = parseNullTime(last); err != nil {
		return store.Link{}, err
	}
	if l.RevokedAt, err = parseNullTime(revoked); err != nil {
		return store.Link{}, err
	}
	l.BuiltAt, err = parseNullTime(built)
	return l, err
}

// TenantValues returns every tenant value kept.
func (s *Store) TenantValues(ctx context.Context) (map[string]string, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT key, value FROM tenant_values`)
	if err != nil {
		return nil, fmt.Errorf("read tenant values: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, fmt.Errorf("read tenant values: %w", err)
		}
		out[k] = v
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read tenant values: %w", err)
	}
	return out, nil
}

// SetTenantValues sets the keys given; an empty value removes its key.
func (s *Store) SetTenantValues(ctx context.Context, kv map[string]string) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		for k, v := range kv {
			var err error
			if v == "" {
				_, err = tx.ExecContext(ctx, `DELETE FROM tenant_values WHERE key = ?`, k)
			} else {
				_, err = tx.ExecContext(ctx, `INSERT INTO tenant_values (key, value) VALUES (?, ?)
ON CONFLICT (key) DO UPDATE SET value = excluded.value`, k, v)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("set tenant values: %w", err)
	}
	return nil
}
