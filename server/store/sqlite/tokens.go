package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/mobileatwork/mobileatwork/server/store"
)

// CreateToken stores an enrollment token; a token with the same hash is
// store.ErrExists.
func (s *Store) CreateToken(ctx context.Context, t store.Token) error {
	if len(t.Hash) == 0 {
		return errors.New("create token: empty hash")
	}
	res, err := s.db.ExecContext(ctx, `
INSERT INTO tokens (hash, user, uses_left, expires_at, created_at)
VALUES (?, ?, ?, ?, ?)
ON CONFLICT (hash) DO NOTHING`,
		t.Hash, t.User, t.UsesLeft, formatTime(t.ExpiresAt), formatTime(t.CreatedAt))
	if err != nil {
		return fmt.Errorf("create token: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("create token: %w", err)
	} else if n == 0 {
		return fmt.Errorf("create token: %w", store.ErrExists)
	}
	return nil
}

// redeemable is the condition of a token that can be redeemed now; its
// arguments are the hash and the time.
const redeemable = `hash = ? AND uses_left > 0 AND expires_at > ? AND revoked_at IS NULL`

// RedeemToken consumes one use of the token and returns it as it is after
// the redemption. The decrement is one conditional UPDATE inside a write
// transaction, so two processes redeeming the last use cannot both succeed.
// When the token is both used up and expired, ErrTokenUsed wins.
func (s *Store) RedeemToken(ctx context.Context, hash []byte, now time.Time) (store.Token, error) {
	var t store.Token
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var expires, created string
		err := tx.QueryRowContext(ctx, `
UPDATE tokens SET uses_left = uses_left - 1
WHERE `+redeemable+`
RETURNING hash, user, uses_left, expires_at, created_at`,
			hash, formatTime(now)).Scan(&t.Hash, &t.User, &t.UsesLeft, &expires, &created)
		if errors.Is(err, sql.ErrNoRows) {
			return whyNotRedeemable(ctx, tx, hash)
		}
		if err != nil {
			return err
		}
		if t.ExpiresAt, err = parseTime(expires); err != nil {
			return err
		}
		t.CreatedAt, err = parseTime(created)
		return err
	})
	if err != nil {
		return store.Token{}, fmt.Errorf("redeem token: %w", err)
	}
	return t, nil
}

// CheckToken reports what RedeemToken would answer now, consuming nothing.
func (s *Store) CheckToken(ctx context.Context, hash []byte, now time.Time) (store.Token, error) {
	t, err := scanToken(s.read.QueryRowContext(ctx,
		`SELECT hash, user, uses_left, expires_at, created_at, revoked_at FROM tokens WHERE `+redeemable, hash, formatTime(now)))
	if errors.Is(err, sql.ErrNoRows) {
		err = whyNotRedeemable(ctx, s.read, hash)
	}
	if err != nil {
		return store.Token{}, fmt.Errorf("check token: %w", err)
	}
	return t, nil
}

// rowQuerier is what *sql.DB and *sql.Tx have in common for one row.
type rowQuerier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// whyNotRedeemable tells which sentinel explains a failed redemption.
func whyNotRedeemable(ctx context.Context, tx rowQuerier, hash []byte) error {
	var usesLeft int
	var revoked sql.NullString
	err := tx.QueryRowContext(ctx, `SELECT uses_left, revoked_at FROM tokens WHERE hash = ?`, hash).Scan(&usesLeft, &revoked)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.ErrTokenUnknown
	case err != nil:
		return err
	case revoked.Valid:
		return store.ErrTokenRevoked
	case usesLeft <= 0:
		return store.ErrTokenUsed
	default:
		return store.ErrTokenExpired
	}
}

// Tokens returns every token, the oldest first.
func (s *Store) Tokens(ctx context.Context) ([]store.Token, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT hash, user, uses_left, expires_at, created_at, revoked_at FROM tokens ORDER BY created_at, hash`)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	defer rows.Close()
	var out []store.Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("list tokens: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return out, nil
}

// RevokeToken marks the token whose ID is id as revoked; a token revoked
// before keeps its first revocation time.
func (s *Store) RevokeToken(ctx context.Context, id string, at time.Time) (store.Token, error) {
	var found store.Token
	err := s.tx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT hash, user, uses_left, expires_at, created_at, revoked_at FROM tokens`)
		if err != nil {
			return err
		}
		var hit *store.Token
		for rows.Next() {
			t, err := scanToken(rows)
			if err != nil {
				rows.Close()
				return err
			}
			if t.ID() == id {
				hit = &t
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if hit == nil {
			return store.ErrNotFound
		}
		if hit.RevokedAt.IsZero() {
			if _, err := tx.ExecContext(ctx, `UPDATE tokens SET revoked_at = ? WHERE hash = ?`, formatTime(at), hit.Hash); err != nil {
				return err
			}
			hit.RevokedAt = at.UTC()
		}
		found = *hit
		return nil
	})
	if err != nil {
		return store.Token{}, fmt.Errorf("revoke token %s: %w", id, err)
	}
	return found, nil
}

func scanToken(r scanner) (store.Token, error) {
	var (
		t                store.Token
		expires, created string
		revoked          sql.NullString
	)
	if err := r.Scan(&t.Hash, &t.User, &t.UsesLeft, &expires, &created, &revoked); err != nil {
		return store.Token{}, err
	}
	var err error
	if t.ExpiresAt, err = parseTime(expires); err != nil {
		return store.Token{}, err
	}
	if t.CreatedAt, err = parseTime(created); err != nil {
		return store.Token{}, err
	}
	t.RevokedAt, err = parseNullTime(revoked)
	return t, err
}
