package server

// TEMPORARY: replaced by the accounts branch at merge.

import (
	"context"
	"errors"
	"time"

	"github.com/mobileatwork/mobileatwork/server/accounts"
)

var (
	ErrUnauthenticated = errors.New("not signed in")
	ErrLocked          = errors.New("account locked")
)

type Actor struct {
	Name, Kind string
	Role       accounts.Role
	Source     string
}

type actorKey struct{}

func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}
func ActorFrom(ctx context.Context) (Actor, bool) {
	a, ok := ctx.Value(actorKey{}).(Actor)
	return a, ok
}

type SessionInfo struct {
	Secret, CSRF string
	ExpiresAt    time.Time
}

var ShimTokens = map[string]Actor{}

func (s *Server) AuthenticateToken(ctx context.Context, secret string) (Actor, error) {
	if a, ok := ShimTokens[secret]; ok {
		return a, nil
	}
	return Actor{}, ErrUnauthenticated
}
func (s *Server) Session(ctx context.Context, secret string) (Actor, SessionInfo, error) {
	return Actor{}, SessionInfo{}, ErrUnauthenticated
}
func (s *Server) Login(ctx context.Context, name, password, source string) (Actor, SessionInfo, error) {
	return Actor{}, SessionInfo{}, ErrUnauthenticated
}
func (s *Server) Logout(ctx context.Context, secret string) error { return nil }
