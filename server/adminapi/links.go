package adminapi

import (
	"context"

	"github.com/mobileatwork/mobileatwork/server"
	"github.com/mobileatwork/mobileatwork/server/accounts"
	"github.com/mobileatwork/mobileatwork/server/jsonview"
)

// LinkRequest makes a download link of the enrolling package.
type LinkRequest struct {
	User string `json:"user,omitempty"`
	Uses *int   `json:"uses,omitempty"` // absent: one
	TTL  string `json:"ttl,omitempty"`  // a duration (72h) or days (3d); empty: 72h
}

// TenantChange sets the tenant's public URLs; an absent key is kept, an
// empty one forgotten.
type TenantChange struct {
	ServerURL *string `json:"server_url,omitempty"`
	EnrollURL *string `json:"enroll_url,omitempty"`
}

// Download links and the tenant's public URLs.
var (
	ListLinks = register(&Endpoint[ListRequest, Page[jsonview.Link]]{
		Name: "links.list", Method: "GET", Path: "/links", Class: accounts.ClassRead,
		Summary: "List download links, never their secrets",
		Do: func(ctx context.Context, s *server.Server, req ListRequest) (Page[jsonview.Link], error) {
			ls, err := s.Links(ctx)
			if err != nil {
				return Page[jsonview.Link]{}, err
			}
			return paginate(mapSlice(ls, jsonview.NewLink), req.PageRequest)
		},
	})
	CreateLink = register(&Endpoint[LinkRequest, jsonview.Link]{
		Name: "links.create", Method: "POST", Path: "/links", Class: accounts.ClassAdmin,
		Summary: "Create a download link; its URL is in this answer only",
		Do: func(ctx context.Context, s *server.Server, req LinkRequest) (jsonview.Link, error) {
			uses := 1
			if req.Uses != nil {
				uses = *req.Uses
			}
			ttl := req.TTL
			if ttl == "" {
				ttl = "72h"
			}
			d, err := server.ParseTTL(ttl)
			if err != nil {
				return jsonview.Link{}, err
			}
			l, err := s.CreateLink(ctx, req.User, uses, d)
			if err != nil {
				return jsonview.Link{}, err
			}
			return jsonview.NewLink(l), nil
		},
	})
	RevokeLink = register(&Endpoint[IDRequest, jsonview.Link]{
		Name: "links.revoke", Method: "POST", Path: "/links/{id}/revoke", Class: accounts.ClassAdmin,
		Summary: "Revoke a download link, with the token of its package",
		Do: func(ctx context.Context, s *server.Server, req IDRequest) (jsonview.Link, error) {
			l, err := s.RevokeLink(ctx, req.ID)
			if err != nil {
				return jsonview.Link{}, err
			}
			return jsonview.NewLink(l), nil
		},
	})
	ShowTenant = register(&Endpoint[None, jsonview.TenantURLs]{
		Name: "tenant.show", Method: "GET", Path: "/tenant", Class: accounts.ClassRead,
		Summary: "Show the tenant's public URLs",
		Do: func(ctx context.Context, s *server.Server, _ None) (jsonview.TenantURLs, error) {
			u, err := s.TenantURLs(ctx)
			return jsonview.NewTenantURLs(u), err
		},
	})
	SetTenant = register(&Endpoint[TenantChange, jsonview.TenantURLs]{
		Name: "tenant.set", Method: "PATCH", Path: "/tenant", Class: accounts.ClassAdmin,
		Summary: "Set the tenant's public URLs, all or nothing",
		Do: func(ctx context.Context, s *server.Server, req TenantChange) (jsonview.TenantURLs, error) {
			kv := map[string]string{}
			if req.ServerURL != nil {
				kv[server.KeyServerURL] = *req.ServerURL
			}
			if req.EnrollURL != nil {
				kv[server.KeyEnrollURL] = *req.EnrollURL
			}
			u, err := s.UpdateTenantURLs(ctx, kv)
			return jsonview.NewTenantURLs(u), err
		},
	})
)
