package adminapi

import (
	"context"
	"fmt"
	"time"

	"github.com/mobileatwork/mobileatwork/server"
	"github.com/mobileatwork/mobileatwork/server/accounts"
	"github.com/mobileatwork/mobileatwork/server/jsonview"
)

// AccountRequest adds an account, or sets its password (Name from the
// path); an empty password has the server generate one, shown once.
type AccountRequest struct {
	Name     string `json:"name"`
	Role     string `json:"role,omitempty"`
	Password string `json:"password,omitempty"`
}

// RoleRequest changes an account's role.
type RoleRequest struct {
	Name string `json:"name"`
	Role string `json:"role"`
}

// NameRequest names one account or API token.
type NameRequest struct {
	Name string `json:"name"`
}

// APITokenRequest makes an API token.
type APITokenRequest struct {
	Name string `json:"name"`
	Role string `json:"role"`
	TTL  string `json:"ttl,omitempty"` // 720h, 30d, or 0 for no expiry; empty: 720h
}

// CreatedAPIToken is a new API token; the secret is shown this once.
type CreatedAPIToken struct {
	Secret string            `json:"secret"`
	Token  jsonview.APIToken `json:"token"`
}

// roleField reads the role of a request that must name one.
func roleField(s string) (accounts.Role, error) {
	if s == "" {
		return "", fmt.Errorf("%w: --role is required: admin, operator or auditor", server.ErrInvalid)
	}
	r, err := accounts.ParseRole(s)
	if err != nil {
		return "", fmt.Errorf("%w: --%v", server.ErrInvalid, err)
	}
	return r, nil
}

// Administrator accounts and API tokens: an admin's business.
var (
	ListAccounts = register(&Endpoint[ListRequest, Page[jsonview.Account]]{
		Name: "accounts.list", Method: "GET", Path: "/accounts", Class: accounts.ClassRead,
		Summary: "List administrator accounts, never their passwords",
		Do: func(ctx context.Context, s *server.Server, req ListRequest) (Page[jsonview.Account], error) {
			as, err := s.Accounts(ctx)
			if err != nil {
				return Page[jsonview.Account]{}, err
			}
			return paginate(mapSlice(as, jsonview.NewAccount), req.PageRequest)
		},
	})
	AddAccount = register(&Endpoint[AccountRequest, jsonview.Account]{
		Name: "accounts.add", Method: "POST", Path: "/accounts", Class: accounts.ClassAdmin,
		Summary: "Add an administrator account",
		Do: func(ctx context.Context, s *server.Server, req AccountRequest) (jsonview.Account, error) {
			role, err := roleField(req.Role)
			if err != nil {
				return jsonview.Account{}, err
			}
			a, err := s.AddAccount(ctx, req.Name, role, req.Password)
			return jsonview.NewAccount(a), err
		},
	})
	RemoveAccount = register(&Endpoint[NameRequest, None]{
		Name: "accounts.remove", Method: "DELETE", Path: "/accounts/{name}", Class: accounts.ClassAdmin,
		Summary: "Remove an administrator account and end its sessions",
		Do: func(ctx context.Context, s *server.Server, req NameRequest) (None, error) {
			return None{}, s.RemoveAccount(ctx, req.Name)
		},
	})
	SetAccountPassword = register(&Endpoint[AccountRequest, jsonview.Account]{
		Name: "accounts.password", Method: "PUT", Path: "/accounts/{name}/password", Class: accounts.ClassAdmin,
		Summary: "Set an account's password, lift its lockout and end its sessions",
		Do: func(ctx context.Context, s *server.Server, req AccountRequest) (jsonview.Account, error) {
			if req.Role != "" {
				return jsonview.Account{}, badRequest("a password change takes no role")
			}
			a, err := s.SetAccountPassword(ctx, req.Name, req.Password)
			return jsonview.NewAccount(a), err
		},
	})
	SetAccountRole = register(&Endpoint[RoleRequest, jsonview.Account]{
		Name: "accounts.role", Method: "PUT", Path: "/accounts/{name}/role", Class: accounts.ClassAdmin,
		Summary: "Change an account's role",
		Do: func(ctx context.Context, s *server.Server, req RoleRequest) (jsonview.Account, error) {
			r, err := accounts.ParseRole(req.Role)
			if err != nil {
				return jsonview.Account{}, fmt.Errorf("%w: %v", server.ErrInvalid, err)
			}
			a, err := s.SetAccountRole(ctx, req.Name, r)
			return jsonview.NewAccount(a), err
		},
	})
	UnlockAccount = register(&Endpoint[NameRequest, jsonview.Account]{
		Name: "accounts.unlock", Method: "POST", Path: "/accounts/{name}/unlock", Class: accounts.ClassAdmin,
		Summary: "Lift an account's lockout after failed sign-ins",
		Do: func(ctx context.Context, s *server.Server, req NameRequest) (jsonview.Account, error) {
			a, err := s.UnlockAccount(ctx, req.Name)
			return jsonview.NewAccount(a), err
		},
	})

	ListAPITokens = register(&Endpoint[ListRequest, Page[jsonview.APIToken]]{
		Name: "apitokens.list", Method: "GET", Path: "/api-tokens", Class: accounts.ClassRead,
		Summary: "List API tokens, never their secrets",
		Do: func(ctx context.Context, s *server.Server, req ListRequest) (Page[jsonview.APIToken], error) {
			ts, err := s.APITokens(ctx)
			if err != nil {
				return Page[jsonview.APIToken]{}, err
			}
			return paginate(mapSlice(ts, jsonview.NewAPIToken), req.PageRequest)
		},
	})
	CreateAPIToken = register(&Endpoint[APITokenRequest, CreatedAPIToken]{
		Name: "apitokens.create", Method: "POST", Path: "/api-tokens", Class: accounts.ClassAdmin,
		Summary: "Create an API token",
		Do: func(ctx context.Context, s *server.Server, req APITokenRequest) (CreatedAPIToken, error) {
			role, err := roleField(req.Role)
			if err != nil {
				return CreatedAPIToken{}, err
			}
			var ttl time.Duration
			switch req.TTL {
			case "0":
			case "":
				ttl = 720 * time.Hour
			default:
				if ttl, err = server.ParseTTL(req.TTL); err != nil {
					return CreatedAPIToken{}, err
				}
			}
			secret, t, err := s.CreateAPIToken(ctx, req.Name, role, ttl)
			return CreatedAPIToken{Secret: secret, Token: jsonview.NewAPIToken(t)}, err
		},
	})
	RevokeAPIToken = register(&Endpoint[NameRequest, jsonview.APIToken]{
		Name: "apitokens.revoke", Method: "POST", Path: "/api-tokens/{name}/revoke", Class: accounts.ClassAdmin,
		Summary: "Revoke an API token",
		Do: func(ctx context.Context, s *server.Server, req NameRequest) (jsonview.APIToken, error) {
			t, err := s.RevokeAPIToken(ctx, req.Name)
			return jsonview.NewAPIToken(t), err
		},
	})
)
