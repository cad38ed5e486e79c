package adminapi

import (
	"context"
	"time"

	"github.com/mobileatwork/mobileatwork/server"
	"github.com/mobileatwork/mobileatwork/server/accounts"
	"github.com/mobileatwork/mobileatwork/server/jsonview"
)

// TokenRequest makes an enrollment token.
type TokenRequest struct {
	User string `json:"user,omitempty"`
	Uses *int   `json:"uses,omitempty"` // absent: one
	TTL  string `json:"ttl,omitempty"`  // a Go duration such as 24h; empty: 24h
}

// CreatedToken is a new enrollment token, shown this once.
type CreatedToken struct {
	Token string `json:"token"`
}

// IDRequest names one object by its id.
type IDRequest struct {
	ID string `json:"id"`
}

// ListRequest is a list with no filter.
type ListRequest struct {
	PageRequest
}

// Enrollment tokens.
var (
	ListTokens = register(&Endpoint[ListRequest, Page[jsonview.Token]]{
		Name: "tokens.list", Method: "GET", Path: "/tokens", Class: accounts.ClassRead,
		Summary: "List enrollment tokens, never their secrets",
		Do: func(ctx context.Context, s *server.Server, req ListRequest) (Page[jsonview.Token], error) {
			ts, err := s.Tokens(ctx)
			if err != nil {
				return Page[jsonview.Token]{}, err
			}
			return paginate(mapSlice(ts, jsonview.NewToken), req.PageRequest)
		},
	})
	CreateToken = register(&Endpoint[TokenRequest, CreatedToken]{
		Name: "tokens.create", Method: "POST", Path: "/tokens", Class: accounts.ClassAdmin,
		Summary: "Create an enrollment token",
		Do: func(ctx context.Context, s *server.Server, req TokenRequest) (CreatedToken, error) {
			uses := 1
			if req.Uses != nil {
				uses = *req.Uses
			}
			ttl, err := durationOr(req.TTL, "ttl", 24*time.Hour)
			if err != nil {
				return CreatedToken{}, err
			}
			t, err := s.CreateToken(ctx, req.User, uses, ttl)
			return CreatedToken{Token: t}, err
		},
	})
	RevokeToken = register(&Endpoint[IDRequest, jsonview.Token]{
		Name: "tokens.revoke", Method: "POST", Path: "/tokens/{id}/revoke", Class: accounts.ClassAdmin,
		Summary: "Revoke an enrollment token",
		Do: func(ctx context.Context, s *server.Server, req IDRequest) (jsonview.Token, error) {
			t, err := s.RevokeToken(ctx, req.ID)
			return jsonview.NewToken(t), err
		},
	})
)

// mapSlice shapes every item of a list.
func mapSlice[T, U any](in []T, f func(T) U) []U {
	out := make([]U, 0, len(in))
	for _, x := range in {
		out = append(out, f(x))
	}
	return out
}

// durationOr reads a duration field, def when empty.
func durationOr(s, name string, def time.Duration) (time.Duration, error) {
	if s == "" {
		return def, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, badRequest("%s %q is not a duration such as 24h or 90m", name, s)
	}
	return d, nil
}
