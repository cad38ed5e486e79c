package server

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/mobileatwork/mobileatwork/server/store"
)

// TokenInfo is an enrollment token as listings show it: never its secret.
type TokenInfo struct {
	ID        string
	User      string
	UsesLeft  int
	State     string // active, used, expired, revoked
	ExpiresAt time.Time
	CreatedAt time.Time
	RevokedAt time.Time
}

func (s *Server) tokenInfo(t store.Token) TokenInfo {
	ti := TokenInfo{ID: t.ID(), User: t.User, UsesLeft: t.UsesLeft, ExpiresAt: t.ExpiresAt, CreatedAt: t.CreatedAt, RevokedAt: t.RevokedAt, State: "active"}
	switch {
	case !t.RevokedAt.IsZero():
		ti.State = "revoked"
	case t.UsesLeft <= 0:
		ti.State = "used"
	case !s.now().Before(t.ExpiresAt):
		ti.State = "expired"
	}
	return ti
}

// Tokens lists the enrollment tokens, the oldest first.
func (s *Server) Tokens(ctx context.Context) ([]TokenInfo, error) {
	ts, err := s.Store.Tokens(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]TokenInfo, 0, len(ts))
	for _, t := range ts {
		out = append(out, s.tokenInfo(t))
	}
	return out, nil
}

// RevokeToken makes a token unusable at once.
func (s *Server) RevokeToken(ctx context.Context, id string) (TokenInfo, error) {
	before, err := s.Tokens(ctx)
	if err != nil {
		return TokenInfo{}, err
	}
	t, err := s.Store.RevokeToken(ctx, strings.TrimSpace(id), s.now())
	if errors.Is(err, store.ErrNotFound) {
		return TokenInfo{}, invalid("no token %q; see `mobileatwork-server tokens`", id)
	} else if err != nil {
		return TokenInfo{}, err
	}
	was := ""
	for _, b := range before {
		if b.ID == t.ID() {
			was = b.State
		}
	}
	if was == "revoked" { // nothing changed
		return s.tokenInfo(t), nil
	}
	return s.tokenInfo(t), s.audit(ctx, "token.revoke", "enrollment token "+t.ID(), change("state", was, "revoked"))
}

// normEmail checks and lower-cases an email address.
func normEmail(email string) (string, error) {
	email = strings.TrimSpace(email)
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || a.Name != "" {
		return "", invalid("%q is not an email address", email)
	}
	return strings.ToLower(email), nil
}

// AddUser adds a user (or names a known one).
func (s *Server) AddUser(ctx context.Context, email, name string) (store.User, error) {
	e, err := normEmail(email)
	if err != nil {
		return store.User{}, err
	}
	name = strings.TrimSpace(name)
	if len(name) > 128 || strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return store.User{}, invalid("--name must be at most 128 characters, on one line")
	}
	before, err := s.Store.User(ctx, e)
	known := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return store.User{}, err
	}
	if err := s.Store.PutUser(ctx, store.User{Email: e, Name: name, CreatedAt: s.now()}); err != nil {
		return store.User{}, err
	}
	u, err := s.Store.User(ctx, e)
	if err != nil {
		return store.User{}, err
	}
	if known && before.Name == u.Name {
		return u, nil // a known user, unchanged
	}
	summary := "name: " + orNone(u.Name)
	if known {
		summary = change("name", before.Name, u.Name)
	}
	return u, s.audit(ctx, "user.add", "user "+u.Email, summary)
}

// Users lists the users, by email.
func (s *Server) Users(ctx context.Context) ([]store.User, error) {
	us, err := s.Store.Users(ctx)
	return nonNil(us), err
}

// UserGroups lists the user groups with their members, by name.
func (s *Server) UserGroups(ctx context.Context) ([]store.UserGroup, error) {
	gs, err := s.Store.UserGroups(ctx)
	return nonNil(gs), err
}

var groupNameRunes = func(r rune) bool {
	return !(unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("-_. ", r))
}

func checkGroupName(name string) error {
	switch {
	case name == "":
		return invalid("a group needs a name")
	case len(name) > 64 || strings.IndexFunc(name, groupNameRunes) >= 0:
		return invalid("group name %q: use at most 64 letters, digits, spaces, '-', '_' or '.'", name)
	case name == "none" || name == "all":
		return invalid("group name %q is reserved: it would read as a distribution level", name)
	}
	return nil
}

// members checks that every email names a known user.
func (s *Server) members(ctx context.Context, emails []string) ([]string, error) {
	var out []string
	for _, e := range splitList(emails) {
		n, err := normEmail(e)
		if err != nil {
			return nil, err
		}
		if _, err := s.Store.User(ctx, n); errors.Is(err, store.ErrNotFound) {
			return nil, invalid("no user %q; add it with `mobileatwork-server user add %s`", n, n)
		} else if err != nil {
			return nil, err
		}
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out, nil
}

// splitList reads repeatable, comma-separated flag values.
func splitList(words []string) []string {
	var out []string
	for _, w := range words {
		for _, p := range strings.Split(w, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// AddUserGroup adds a user group with its members.
func (s *Server) AddUserGroup(ctx context.Context, name, description string, memberEmails []string) (store.UserGroup, error) {
	name = strings.TrimSpace(name)
	if err := checkGroupName(name); err != nil {
		return store.UserGroup{}, err
	}
	if err := checkDescription(description); err != nil {
		return store.UserGroup{}, err
	}
	ms, err := s.members(ctx, memberEmails)
	if err != nil {
		return store.UserGroup{}, err
	}
	g := store.UserGroup{Name: name, Description: strings.TrimSpace(description), Members: ms, CreatedAt: s.now()}
	if err := s.Store.CreateUserGroup(ctx, g); errors.Is(err, store.ErrExists) {
		return store.UserGroup{}, invalid("user group %q exists already; change it with `user-group set %s`", name, name)
	} else if err != nil {
		return store.UserGroup{}, err
	}
	return g, s.audit(ctx, "usergroup.add", userGroupObject(g.Name), "members: "+memberList(ms))
}

func userGroupObject(name string) string { return fmt.Sprintf("user group %q", name) }

func memberList(ms []string) string {
	if len(ms) == 0 {
		return "none"
	}
	return strings.Join(ms, ",")
}

// SetUserGroup adds and removes members.
func (s *Server) SetUserGroup(ctx context.Context, name string, add, remove []string) (store.UserGroup, error) {
	g, err := s.Store.UserGroup(ctx, strings.TrimSpace(name))
	if errors.Is(err, store.ErrNotFound) {
		return store.UserGroup{}, invalid("no user group %q; see `mobileatwork-server user-groups`", name)
	} else if err != nil {
		return store.UserGroup{}, err
	}
	if len(add) == 0 && len(remove) == 0 {
		return store.UserGroup{}, invalid("nothing to change: give --add EMAIL or --remove EMAIL")
	}
	plus, err := s.members(ctx, add)
	if err != nil {
		return store.UserGroup{}, err
	}
	var minus []string
	for _, e := range splitList(remove) {
		n, err := normEmail(e)
		if err != nil {
			return store.UserGroup{}, err
		}
		if !slices.Contains(g.Members, n) {
			return store.UserGroup{}, invalid("%s is not a member of %q (members: %s)", n, g.Name, knownList(g.Members))
		}
		minus = append(minus, n)
	}
	next := []string{}
	for _, m := range append(g.Members, plus...) {
		if !slices.Contains(minus, m) && !slices.Contains(next, m) {
			next = append(next, m)
		}
	}
	slices.Sort(next)
	if err := s.Store.SetUserGroupMembers(ctx, g.Name, next); err != nil {
		return store.UserGroup{}, fmt.Errorf("store members: %w", err)
	}
	before := g.Members
	g.Members = next
	return g, s.audit(ctx, "usergroup.set", userGroupObject(g.Name), orNoChange(change("members", memberList(before), memberList(next))))
}

// DeviceGroups lists the device groups with their devices.
func (s *Server) DeviceGroups(ctx context.Context) (map[string][]string, error) {
	devs, err := s.Store.Devices(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for _, d := range devs {
		for _, g := range d.Groups {
			out[g] = append(out[g], d.ID)
		}
	}
	return out, nil
}
