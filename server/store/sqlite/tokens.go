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
WHERE hash = ? AND uses_left > 0 AND expires_at > ?
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

// whyNotRedeemable tells which sentinel explains a failed redemption.
func whyNotRedeemable(ctx context.Context, tx *sql.Tx, hash []byte) error {
	var usesLeft int
	err := tx.QueryRowContext(ctx, `SELECT uses_left FROM tokens WHERE hash = ?`, hash).Scan(&usesLeft)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.ErrTokenUnknown
	case err != nil:
		return err
	case usesLeft <= 0:
		return store.ErrTokenUsed
	default:
		return store.ErrTokenExpired
	}
}
