package server

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mobileatwork/mobileatwork/server/accounts"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// ErrUnauthenticated is every refusal of a credential: an unknown,
// revoked or expired API token or session, or a failed login. Its message
// never says which.
var ErrUnauthenticated = errors.New("unauthenticated")

// The states of an API token, as listings show them.
const (
	APITokenActive  = "active"
	APITokenExpired = "expired"
	APITokenRevoked = "revoked"
)

// APITokenInfo is an API token as listings show it: never its secret.
type APITokenInfo struct {
	ID         string
	Name       string
	Role       accounts.Role
	State      string // APITokenActive, APITokenExpired or APITokenRevoked
	CreatedBy  string
	CreatedAt  time.Time
	ExpiresAt  time.Time // zero: never
	LastUsedAt time.Time
	RevokedAt  time.Time
}

// apiTokenState is the one rule for what a token allows at now: revoked
// wins, then expired.
func apiTokenState(t store.APIToken, now time.Time) string {
	switch {
	case !t.RevokedAt.IsZero():
		return APITokenRevoked
	case !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt):
		return APITokenExpired
	}
	return APITokenActive
}

func (s *Server) apiTokenInfo(t store.APIToken) APITokenInfo {
	return APITokenInfo{ID: t.ID, Name: t.Name, Role: accounts.Role(t.Role), State: apiTokenState(t, s.now()), CreatedBy: t.CreatedBy,
		CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt, LastUsedAt: t.LastUsedAt, RevokedAt: t.RevokedAt}
}

func apiTokenObject(t store.APIToken) string { return object("api token", t.ID, t.Name) }

// CreateAPIToken makes an API token with a role, valid for ttl (0: until
// revoked), and returns its secret, shown this once: the store keeps its
// hash.
func (s *Server) CreateAPIToken(ctx context.Context, name string, role accounts.Role, ttl time.Duration) (string, APITokenInfo, error) {
	n, err := accounts.CheckName("API token", name)
	if err != nil {
		return "", APITokenInfo{}, invalid("%v", err)
	}
	if err := checkRole(role); err != nil {
		return "", APITokenInfo{}, err
	}
	if ttl < 0 {
		return "", APITokenInfo{}, invalid("--ttl must be positive, or 0 for a token that does not expire, not %s", ttl)
	}
	secret, hash := accounts.NewSecret(accounts.TokenPrefix)
	now := s.now()
	by, ok := ActorFrom(ctx)
	if !ok {
		by = unknownActor
	}
	t := store.APIToken{ID: newID("atk"), Name: n, Role: string(role), Hash: hash, CreatedBy: by.Name, CreatedAt: now}
	if ttl > 0 {
		t.ExpiresAt = now.Add(ttl)
	}
	if err := s.Store.CreateAPIToken(ctx, t); errors.Is(err, store.ErrExists) {
		return "", APITokenInfo{}, invalid("an API token named %q exists already (revoked ones keep their names); choose another name", n)
	} else if err != nil {
		return "", APITokenInfo{}, err
	}
	summary := changes("role: "+string(role), "expires: "+stampOrNever(t.ExpiresAt))
	return secret, s.apiTokenInfo(t), s.audit(ctx, "apitoken.create", apiTokenObject(t), summary)
}

// APITokens lists the API tokens, the oldest first.
func (s *Server) APITokens(ctx context.Context) ([]APITokenInfo, error) {
	ts, err := s.Store.APITokens(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]APITokenInfo, 0, len(ts))
	for _, t := range ts {
		out = append(out, s.apiTokenInfo(t))
	}
	return out, nil
}

// RevokeAPIToken makes the named token unusable at once.
func (s *Server) RevokeAPIToken(ctx context.Context, name string) (APITokenInfo, error) {
	n, err := accounts.CheckName("API token", name)
	if err != nil {
		return APITokenInfo{}, invalid("no API token %q; see `mobileatwork-server admin token list`", name)
	}
	all, err := s.Store.APITokens(ctx)
	if err != nil {
		return APITokenInfo{}, err
	}
	i := slices.IndexFunc(all, func(t store.APIToken) bool { return t.Name == n })
	if i < 0 {
		return APITokenInfo{}, invalid("no API token %q; see `mobileatwork-server admin token list`", n)
	}
	t, err := s.Store.RevokeAPIToken(ctx, n, s.now())
	if err != nil {
		return APITokenInfo{}, err
	}
	if !all[i].RevokedAt.IsZero() { // revoked before: nothing changed
		return s.apiTokenInfo(t), nil
	}
	return s.apiTokenInfo(t), s.audit(ctx, "apitoken.revoke", apiTokenObject(t), change("state", APITokenActive, APITokenRevoked))
}

// AuthenticateToken returns the actor an API token's secret stands for.
// Source is left to the caller, which knows the client's address. Unknown,
// revoked and expired tokens are one ErrUnauthenticated. The last use is
// recorded at most once every accounts.TouchEvery.
func (s *Server) AuthenticateToken(ctx context.Context, secret string) (Actor, error) {
	refused := fmt.Errorf("%w: the API token is unknown, expired or revoked", ErrUnauthenticated)
	if !strings.HasPrefix(secret, accounts.TokenPrefix) {
		return Actor{}, refused
	}
	t, err := s.Store.APITokenByHash(ctx, accounts.HashSecret(secret))
	if errors.Is(err, store.ErrNotFound) {
		return Actor{}, refused
	} else if err != nil {
		return Actor{}, err
	}
	now := s.now()
	if apiTokenState(t, now) != APITokenActive {
		return Actor{}, refused
	}
	if t.LastUsedAt.IsZero() || !now.Before(t.LastUsedAt.Add(accounts.TouchEvery)) {
		if err := s.Store.TouchAPIToken(ctx, t.ID, now, now.Add(-accounts.TouchEvery)); err != nil {
			s.Log.Sugar().Warnf("record the use of API token %s: %v", t.ID, err)
		}
	}
	return Actor{Name: t.Name, Kind: store.ActorToken, Role: accounts.Role(t.Role)}, nil
}
