package adminapi

import (
	"context"

	"github.com/mobileatwork/mobileatwork/server"
	"github.com/mobileatwork/mobileatwork/server/accounts"
	"github.com/mobileatwork/mobileatwork/server/jsonview"
)

// UserRequest adds a user, or names a known one.
type UserRequest struct {
	Email string `json:"email"`
	Name  string `json:"name,omitempty"`
}

// UserGroupRequest adds a user group; members must be users.
type UserGroupRequest struct {
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	Members     []string `json:"members,omitempty"`
}

// UserGroupChange adds and removes members of a user group.
type UserGroupChange struct {
	Name   string   `json:"name"`
	Add    []string `json:"add,omitempty"`
	Remove []string `json:"remove,omitempty"`
}

// Users and user groups.
var (
	ListUsers = register(&Endpoint[ListRequest, Page[jsonview.User]]{
		Name: "users.list", Method: "GET", Path: "/users", Class: accounts.ClassRead,
		Summary: "List users",
		Do: func(ctx context.Context, s *server.Server, req ListRequest) (Page[jsonview.User], error) {
			us, err := s.Users(ctx)
			if err != nil {
				return Page[jsonview.User]{}, err
			}
			return paginate(mapSlice(us, jsonview.NewUser), req.PageRequest)
		},
	})
	AddUser = register(&Endpoint[UserRequest, jsonview.User]{
		Name: "users.add", Method: "POST", Path: "/users", Class: accounts.ClassAdmin,
		Summary: "Add a user, or name a known one",
		Do: func(ctx context.Context, s *server.Server, req UserRequest) (jsonview.User, error) {
			u, err := s.AddUser(ctx, req.Email, req.Name)
			return jsonview.NewUser(u), err
		},
	})
	ListUserGroups = register(&Endpoint[ListRequest, Page[jsonview.UserGroup]]{
		Name: "usergroups.list", Method: "GET", Path: "/user-groups", Class: accounts.ClassRead,
		Summary: "List user groups and their members",
		Do: func(ctx context.Context, s *server.Server, req ListRequest) (Page[jsonview.UserGroup], error) {
			gs, err := s.UserGroups(ctx)
			if err != nil {
				return Page[jsonview.UserGroup]{}, err
			}
			return paginate(mapSlice(gs, jsonview.NewUserGroup), req.PageRequest)
		},
	})
	AddUserGroup = register(&Endpoint[UserGroupRequest, jsonview.UserGroup]{
		Name: "usergroups.add", Method: "POST", Path: "/user-groups", Class: accounts.ClassAdmin,
		Summary: "Add a user group",
		Do: func(ctx context.Context, s *server.Server, req UserGroupRequest) (jsonview.UserGroup, error) {
			g, err := s.AddUserGroup(ctx, req.Name, req.Description, req.Members)
			return jsonview.NewUserGroup(g), err
		},
	})
	SetUserGroup = register(&Endpoint[UserGroupChange, jsonview.UserGroup]{
		Name: "usergroups.set", Method: "PATCH", Path: "/user-groups/{name}", Class: accounts.ClassAdmin,
		Summary: "Add and remove members of a user group",
		Do: func(ctx context.Context, s *server.Server, req UserGroupChange) (jsonview.UserGroup, error) {
			g, err := s.SetUserGroup(ctx, req.Name, req.Add, req.Remove)
			return jsonview.NewUserGroup(g), err
		},
	})
)
