package storetest

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/server/store"
)

func tokenHash(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

func testTokens(t *testing.T, newStore NewStore) {
	t.Run("redeem", func(t *testing.T) {
		tests := []struct {
			name    string
			uses    int
			expires time.Time
			redeem  string // secret presented
			now     time.Time
			wantErr error
		}{
			{name: "valid", uses: 1, expires: at(time.Hour), redeem: "s", now: at(0)},
			{name: "unknown", uses: 1, expires: at(time.Hour), redeem: "other", now: at(0), wantErr: store.ErrTokenUnknown},
			{name: "used", uses: 0, expires: at(time.Hour), redeem: "s", now: at(0), wantErr: store.ErrTokenUsed},
			{name: "expired", uses: 1, expires: at(time.Hour), redeem: "s", now: at(2 * time.Hour), wantErr: store.ErrTokenExpired},
			{name: "expires at this instant", uses: 1, expires: at(time.Hour), redeem: "s", now: at(time.Hour), wantErr: store.ErrTokenExpired},
			{name: "one tick before expiry", uses: 1, expires: at(time.Hour), redeem: "s", now: at(time.Hour - tick)},
			{name: "used and expired reports used", uses: 0, expires: at(time.Hour), redeem: "s", now: at(2 * time.Hour), wantErr: store.ErrTokenUsed},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := newStore(t)
				tok := store.Token{Hash: tokenHash("s"), User: "ada@example.com", UsesLeft: tt.uses, ExpiresAt: tt.expires, CreatedAt: at(-time.Minute)}
				if err := s.CreateToken(ctx(t), tok); err != nil {
					t.Fatalf("CreateToken: %v", err)
				}
				// CheckToken answers as RedeemToken will, consuming nothing.
				for range 2 {
					checked, err := s.CheckToken(ctx(t), tokenHash(tt.redeem), tt.now)
					if !errors.Is(err, tt.wantErr) {
						t.Fatalf("CheckToken error = %v, want %v", err, tt.wantErr)
					}
					if tt.wantErr == nil && (!bytes.Equal(checked.Hash, tok.Hash) || checked.User != tok.User || checked.UsesLeft != tt.uses) {
						t.Errorf("CheckToken = %+v, want the stored token, its uses untouched", checked)
					}
				}
				got, err := s.RedeemToken(ctx(t), tokenHash(tt.redeem), tt.now)
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("RedeemToken error = %v, want %v", err, tt.wantErr)
				}
				if tt.wantErr != nil {
					if got.Hash != nil || got.User != "" {
						t.Errorf("failed RedeemToken returned a token: %+v", got)
					}
					return
				}
				if !bytes.Equal(got.Hash, tok.Hash) || got.User != tok.User ||
					!got.ExpiresAt.Equal(tok.ExpiresAt) || !got.CreatedAt.Equal(tok.CreatedAt) {
					t.Errorf("RedeemToken = %+v, want the stored token %+v", got, tok)
				}
				if got.UsesLeft != tt.uses-1 {
					t.Errorf("UsesLeft = %d, want %d after one redemption", got.UsesLeft, tt.uses-1)
				}
			})
		}
	})

	t.Run("check of a revoked token", func(t *testing.T) {
		s := newStore(t)
		tok := store.Token{Hash: tokenHash("s"), UsesLeft: 1, ExpiresAt: at(time.Hour), CreatedAt: at(0)}
		if err := s.CreateToken(ctx(t), tok); err != nil {
			t.Fatal(err)
		}
		if _, err := s.RevokeToken(ctx(t), tok.ID(), at(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CheckToken(ctx(t), tok.Hash, at(2*time.Minute)); !errors.Is(err, store.ErrTokenRevoked) {
			t.Fatalf("CheckToken of a revoked token: %v, want ErrTokenRevoked", err)
		}
	})

	t.Run("failure changes nothing", func(t *testing.T) {
		s := newStore(t)
		tok := store.Token{Hash: tokenHash("s"), UsesLeft: 2, ExpiresAt: at(time.Hour), CreatedAt: at(0)}
		if err := s.CreateToken(ctx(t), tok); err != nil {
			t.Fatal(err)
		}
		if _, err := s.RedeemToken(ctx(t), tok.Hash, at(time.Hour)); !errors.Is(err, store.ErrTokenExpired) {
			t.Fatalf("late RedeemToken error = %v, want ErrTokenExpired", err)
		}
		// Both uses are still there: a failed attempt consumed none.
		for i := 2; i > 0; i-- {
			got, err := s.RedeemToken(ctx(t), tok.Hash, at(0))
			if err != nil {
				t.Fatalf("RedeemToken with %d uses left: %v", i, err)
			}
			if got.UsesLeft != i-1 {
				t.Errorf("UsesLeft = %d, want %d", got.UsesLeft, i-1)
			}
		}
	})

	t.Run("multi-use", func(t *testing.T) {
		s := newStore(t)
		tok := store.Token{Hash: tokenHash("team"), User: "it@example.com", UsesLeft: 3, ExpiresAt: at(time.Hour), CreatedAt: at(0)}
		if err := s.CreateToken(ctx(t), tok); err != nil {
			t.Fatal(err)
		}
		for want := 2; want >= 0; want-- {
			got, err := s.RedeemToken(ctx(t), tok.Hash, at(time.Minute))
			if err != nil {
				t.Fatalf("redemption leaving %d: %v", want, err)
			}
			if got.UsesLeft != want || got.User != tok.User {
				t.Errorf("redemption = {UsesLeft:%d User:%q}, want {UsesLeft:%d User:%q}", got.UsesLeft, got.User, want, tok.User)
			}
		}
		if _, err := s.RedeemToken(ctx(t), tok.Hash, at(time.Minute)); !errors.Is(err, store.ErrTokenUsed) {
			t.Fatalf("fourth redemption error = %v, want ErrTokenUsed", err)
		}
	})

	t.Run("duplicate", func(t *testing.T) {
		s := newStore(t)
		tok := store.Token{Hash: tokenHash("s"), UsesLeft: 1, ExpiresAt: at(time.Hour), CreatedAt: at(0)}
		if err := s.CreateToken(ctx(t), tok); err != nil {
			t.Fatal(err)
		}
		tok.UsesLeft = 5
		if err := s.CreateToken(ctx(t), tok); !errors.Is(err, store.ErrExists) {
			t.Fatalf("second CreateToken error = %v, want ErrExists", err)
		}
		if got, err := s.RedeemToken(ctx(t), tok.Hash, at(0)); err != nil || got.UsesLeft != 0 {
			t.Fatalf("RedeemToken = %+v, %v; the duplicate must not have replaced the token", got, err)
		}
	})

	// A lost update shows only under some interleavings, so several rounds
	// give a non-atomic backend more chances to fail.
	t.Run("concurrent redemption of a one-use token", func(t *testing.T) {
		s := newStore(t)
		const rounds, n = 5, 20
		for round := range rounds {
			hash := tokenHash(fmt.Sprint("once-", round))
			if err := s.CreateToken(ctx(t), store.Token{Hash: hash, UsesLeft: 1, ExpiresAt: at(time.Hour), CreatedAt: at(0)}); err != nil {
				t.Fatal(err)
			}
			errs := make([]error, n)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range n {
				wg.Go(func() {
					<-start
					_, errs[i] = s.RedeemToken(ctx(t), hash, at(time.Minute))
				})
			}
			close(start)
			wg.Wait()
			ok := 0
			for i, err := range errs {
				switch {
				case err == nil:
					ok++
				case !errors.Is(err, store.ErrTokenUsed):
					t.Errorf("round %d, redemption %d: error = %v, want nil or ErrTokenUsed", round, i, err)
				}
			}
			if ok != 1 {
				t.Fatalf("round %d: %d of %d concurrent redemptions succeeded, want exactly 1", round, ok, n)
			}
		}
	})
}

func testTokenList(t *testing.T, newStore NewStore) {
	s := newStore(t)
	if got, err := s.Tokens(ctx(t)); err != nil || len(got) != 0 {
		t.Fatalf("Tokens of an empty store = %v, %v", got, err)
	}
	a := store.Token{Hash: tokenHash("a"), User: "ada@example.com", UsesLeft: 2, ExpiresAt: at(time.Hour), CreatedAt: at(time.Minute)}
	b := store.Token{Hash: tokenHash("b"), UsesLeft: 1, ExpiresAt: at(time.Hour), CreatedAt: at(0)}
	for _, tok := range []store.Token{a, b} {
		if err := s.CreateToken(ctx(t), tok); err != nil {
			t.Fatal(err)
		}
	}
	list, err := s.Tokens(ctx(t))
	if err != nil || len(list) != 2 || list[0].ID() != b.ID() || list[1].ID() != a.ID() || list[1].User != a.User || list[1].UsesLeft != 2 {
		t.Fatalf("Tokens = %+v, %v; want b then a, oldest first", list, err)
	}
	if _, err := s.RevokeToken(ctx(t), "tok_0000000000000000", at(0)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("RevokeToken of an unknown id = %v, want ErrNotFound", err)
	}
	got, err := s.RevokeToken(ctx(t), a.ID(), at(2*time.Minute))
	if err != nil || !got.RevokedAt.Equal(at(2*time.Minute)) {
		t.Fatalf("RevokeToken = %+v, %v", got, err)
	}
	// Revoking again keeps the first time.
	if got, err := s.RevokeToken(ctx(t), a.ID(), at(time.Hour)); err != nil || !got.RevokedAt.Equal(at(2*time.Minute)) {
		t.Fatalf("second RevokeToken = %+v, %v", got, err)
	}
	if _, err := s.RedeemToken(ctx(t), a.Hash, at(3*time.Minute)); !errors.Is(err, store.ErrTokenRevoked) {
		t.Fatalf("RedeemToken of a revoked token = %v, want ErrTokenRevoked", err)
	}
	if _, err := s.RedeemToken(ctx(t), b.Hash, at(3*time.Minute)); err != nil {
		t.Fatalf("the other token no longer redeems: %v", err)
	}
}
