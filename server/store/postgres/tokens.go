package postgres

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mobileatwork/mobileatwork/server/store"
)

const tokenColumns = `hash, "user", uses_left, expires_at, created_at, revoked_at`

// CreateToken stores an enrollment token; a token with the same hash is
// store.ErrExists.
func (s *Store) CreateToken(ctx context.Context, t store.Token) error {
	if len(t.Hash) == 0 {
		return errors.New("create token: empty hash")
	}
	tag, err := s.db().Exec(ctx, `
INSERT INTO tokens (hash, "user", uses_left, expires_at, created_at) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (hash) DO NOTHING`, t.Hash, t.User, t.UsesLeft, t.ExpiresAt, t.CreatedAt)
	if err != nil {
		return fmt.Errorf("create token: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("create token: %w", store.ErrExists)
	}
	return nil
}

// redeemable is the condition of a token that can be redeemed now; its
// arguments are the hash and the time.
const redeemable = `hash = $1 AND uses_left > 0 AND expires_at > $2 AND revoked_at IS NULL`

// RedeemToken consumes one use of the token in one conditional UPDATE: the
// row lock makes a concurrent redemption wait and re-check the condition,
// so the last use goes to one caller only, whichever replica it reached.
// When the token is both used up and expired, ErrTokenUsed wins.
func (s *Store) RedeemToken(ctx context.Context, hash []byte, now time.Time) (store.Token, error) {
	var t store.Token
	err := s.tx(ctx, func(q db) error {
		var err error
		t, err = scanToken(q.QueryRow(ctx, `
UPDATE tokens SET uses_left = uses_left - 1
WHERE `+redeemable+`
RETURNING `+tokenColumns, hash, now))
		if errors.Is(err, pgx.ErrNoRows) {
			return whyNotRedeemable(ctx, q, hash)
		}
		return err
	})
	if err != nil {
		return store.Token{}, fmt.Errorf("redeem token: %w", err)
	}
	return t, nil
}

// CheckToken reports what RedeemToken would answer now, consuming nothing.
func (s *Store) CheckToken(ctx context.Context, hash []byte, now time.Time) (store.Token, error) {
	t, err := scanToken(s.db().QueryRow(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE `+redeemable, hash, now))
	if errors.Is(err, pgx.ErrNoRows) {
		err = whyNotRedeemable(ctx, s.db(), hash)
	}
	if err != nil {
		return store.Token{}, fmt.Errorf("check token: %w", err)
	}
	return t, nil
}

// whyNotRedeemable tells which sentinel explains a failed redemption.
func whyNotRedeemable(ctx context.Context, q db, hash []byte) error {
	t, err := scanToken(q.QueryRow(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE hash = $1`, hash))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return store.ErrTokenUnknown
	case err != nil:
		return err
	case !t.RevokedAt.IsZero():
		return store.ErrTokenRevoked
	case t.UsesLeft <= 0:
		return store.ErrTokenUsed
	default:
		return store.ErrTokenExpired
	}
}

// Tokens returns every token, the oldest first.
func (s *Store) Tokens(ctx context.Context) ([]store.Token, error) {
	rows, err := s.db().Query(ctx, `SELECT `+tokenColumns+` FROM tokens ORDER BY created_at, hash`)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Token, error) { return scanToken(r) })
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return out, nil
}

// RevokeToken marks the token whose ID is id as revoked; a token revoked
// before keeps its first revocation time. The ID is a prefix of the hash,
// so the lookup is by that prefix.
func (s *Store) RevokeToken(ctx context.Context, id string, at time.Time) (store.Token, error) {
	var found store.Token
	err := s.tx(ctx, func(q db) error {
		prefix, err := hex.DecodeString(strings.TrimPrefix(id, "tok_"))
		if err != nil || !strings.HasPrefix(id, "tok_") || len(prefix) == 0 {
			return store.ErrNotFound
		}
		t, err := scanToken(q.QueryRow(ctx, `SELECT `+tokenColumns+` FROM tokens
WHERE substring(hash FROM 1 FOR 8) = $1 ORDER BY created_at DESC, hash LIMIT 1 FOR UPDATE`, prefix))
		if err != nil {
			return notFound(err)
		}
		if t.ID() != id {
			return store.ErrNotFound
		}
		if t.RevokedAt.IsZero() {
			if _, err := q.Exec(ctx, `UPDATE tokens SET revoked_at = $1 WHERE hash = $2`, at, t.Hash); err != nil {
				return err
			}
			t.RevokedAt = at.UTC().Truncate(time.Microsecond)
		}
		found = t
		return nil
	})
	if err != nil {
		return store.Token{}, fmt.Errorf("revoke token %s: %w", id, err)
	}
	return found, nil
}

func scanToken(r pgx.Row) (store.Token, error) {
	var (
		t       store.Token
		revoked *time.Time
	)
	if err := r.Scan(&t.Hash, &t.User, &t.UsesLeft, &t.ExpiresAt, &t.CreatedAt, &revoked); err != nil {
		return store.Token{}, err
	}
	t.ExpiresAt, t.CreatedAt, t.RevokedAt = t.ExpiresAt.UTC(), t.CreatedAt.UTC(), fromNull(revoked)
	return t, nil
}
