package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mobileatwork/mobileatwork/server/store"
)

// linksSchema keeps the download links of enrolling packages and the
// tenant's own values (its public URLs).
const linksSchema = `
CREATE TABLE links (
	id               text COLLATE "C" PRIMARY KEY,
	hash             bytea NOT NULL UNIQUE,
	"user"           text NOT NULL DEFAULT '',
	uses             integer NOT NULL,
	downloads        integer NOT NULL DEFAULT 0,
	last_download_at timestamptz,
	expires_at       timestamptz NOT NULL,
	created_at       timestamptz NOT NULL,
	revoked_at       timestamptz,
	package_sha256   text NOT NULL DEFAULT '',
	package_size     bigint NOT NULL DEFAULT 0,
	token_id         text NOT NULL DEFAULT '',
	built_at         timestamptz
);
CREATE INDEX links_created_at ON links (created_at);

CREATE TABLE tenant_values (
	key   text COLLATE "C" PRIMARY KEY,
	value text NOT NULL
);
`

const linkColumns = `id, hash, "user", uses, downloads, last_download_at, expires_at, created_at, revoked_at, package_sha256, package_size, token_id, built_at`

// CreateLink stores a new link; a taken id or hash is store.ErrExists.
func (s *Store) CreateLink(ctx context.Context, l store.Link) error {
	if l.ID == "" || len(l.Hash) == 0 {
		return errors.New("create link: empty id or hash")
	}
	tag, err := s.db().Exec(ctx, `
INSERT INTO links (id, hash, "user", uses, expires_at, created_at) VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT DO NOTHING`, l.ID, l.Hash, l.User, l.Uses, l.ExpiresAt, l.CreatedAt)
	if err != nil {
		return fmt.Errorf("create link: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("create link: %w", store.ErrExists)
	}
	return nil
}

// LinkByHash returns the link whose secret has this hash.
func (s *Store) LinkByHash(ctx context.Context, hash []byte) (store.Link, error) {
	l, err := scanLink(s.db().QueryRow(ctx, `SELECT `+linkColumns+` FROM links WHERE hash = $1`, hash))
	if err != nil {
		return store.Link{}, fmt.Errorf("read link: %w", notFound(err))
	}
	return l, nil
}

// Links returns every link, the oldest first.
func (s *Store) Links(ctx context.Context) ([]store.Link, error) {
	rows, err := s.db().Query(ctx, `SELECT `+linkColumns+` FROM links ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list links: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Link, error) { return scanLink(r) })
	if err != nil {
		return nil, fmt.Errorf("list links: %w", err)
	}
	return out, nil
}

// RevokeLink marks the link revoked, keeping a first revocation time.
func (s *Store) RevokeLink(ctx context.Context, id string, at time.Time) (store.Link, error) {
	var l store.Link
	err := s.tx(ctx, func(q db) error {
		if _, err := q.Exec(ctx, `UPDATE links SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL`, at, id); err != nil {
			return err
		}
		var err error
		l, err = scanLink(q.QueryRow(ctx, `SELECT `+linkColumns+` FROM links WHERE id = $1`, id))
		return notFound(err)
	})
	if err != nil {
		return store.Link{}, fmt.Errorf("revoke link %s: %w", id, err)
	}
	return l, nil
}

// SetLinkPackage records the link's package unless one is recorded; the
// row lock makes a concurrent builder on another replica wait and then
// see the first package.
func (s *Store) SetLinkPackage(ctx context.Context, id string, p store.Link) (store.Link, error) {
	var l store.Link
	err := s.tx(ctx, func(q db) error {
		if _, err := q.Exec(ctx, `
UPDATE links SET package_sha256 = $1, package_size = $2, token_id = $3, built_at = $4
WHERE id = $5 AND package_sha256 = ''`, p.PackageSHA256, p.PackageSize, p.TokenID, nullTime(p.BuiltAt), id); err != nil {
			return err
		}
		var err error
		l, err = scanLink(q.QueryRow(ctx, `SELECT `+linkColumns+` FROM links WHERE id = $1`, id))
		return notFound(err)
	})
	if err != nil {
		return store.Link{}, fmt.Errorf("set link package %s: %w", id, err)
	}
	return l, nil
}

// CountLinkDownload takes one use of the link in one conditional UPDATE:
// the row lock makes a concurrent download wait and re-check, so the last
// use goes to one caller only, whichever replica it reached.
func (s *Store) CountLinkDownload(ctx context.Context, id string, now time.Time) (store.Link, error) {
	var l store.Link
	err := s.tx(ctx, func(q db) error {
		var err error
		l, err = scanLink(q.QueryRow(ctx, `
UPDATE links SET downloads = downloads + 1, last_download_at = $1
WHERE id = $2 AND downloads < uses AND expires_at > $1 AND revoked_at IS NULL
RETURNING `+linkColumns, now, id))
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if l, err = scanLink(q.QueryRow(ctx, `SELECT `+linkColumns+` FROM links WHERE id = $1`, id)); err != nil {
			return notFound(err)
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

func scanLink(r pgx.Row) (store.Link, error) {
	var (
		l                    store.Link
		last, revoked, built *time.Time
	)
	if err := r.Scan(&l.ID, &l.Hash, &l.User, &l.Uses, &l.Downloads, &last, &l.ExpiresAt, &l.CreatedAt, &revoked,
		&l.PackageSHA256, &l.PackageSize, &l.TokenID, &built); err != nil {
		return store.Link{}, err
	}
	l.ExpiresAt, l.CreatedAt = l.ExpiresAt.UTC(), l.CreatedAt.UTC()
	l.LastDownloadAt, l.RevokedAt, l.BuiltAt = fromNull(last), fromNull(revoked), fromNull(built)
	return l, nil
}

// TenantValues returns every tenant value kept.
func (s *Store) TenantValues(ctx context.Context) (map[string]string, error) {
	rows, err := s.db().Query(ctx, `SELECT key, value FROM tenant_values`)
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
	err := s.tx(ctx, func(q db) error {
		for k, v := range kv {
			var err error
			if v == "" {
				_, err = q.Exec(ctx, `DELETE FROM tenant_values WHERE key = $1`, k)
			} else {
				_, err = q.Exec(ctx, `INSERT INTO tenant_values (key, value) VALUES ($1, $2)
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
