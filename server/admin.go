package server

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/store"
	"github.com/mobileatwork/mobileatwork/server/variables"
)

// ErrInvalid is wrapped by every refusal of an administrative request.
var ErrInvalid = errors.New("invalid request")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// CreateToken makes an enrollment token for uses enrollments within ttl and
// returns its text. Only the hash of its secret is stored.
func (s *Server) CreateToken(ctx context.Context, user string, uses int, ttl time.Duration) (string, error) {
	if err := checkTokenArgs(user, uses, ttl); err != nil {
		return "", err
	}
	tok, err := protocol.NewEnrollToken(s.Tenant.CAPin())
	if err != nil {
		return "", err
	}
	ti, err := s.storeToken(ctx, tok, user, uses, ttl)
	if err != nil {
		return "", err
	}
	return tok.String(), s.audit(ctx, "token.create", "enrollment token "+ti.ID, tokenSummary(ti))
}

// tokenSummary says whom an enrollment token enrolls, how often, until when.
func tokenSummary(ti TokenInfo) string {
	return fmt.Sprintf("user: %s; uses: %d; expires: %s", orNone(ti.User), ti.UsesLeft, stampOrNever(ti.ExpiresAt))
}

// checkTokenArgs is what every way of making a token refuses.
func checkTokenArgs(user string, uses int, ttl time.Duration) error {
	if uses < 1 {
		return invalid("--uses must be at least 1, got %d", uses)
	}
	if ttl <= 0 {
		return invalid("--ttl must be positive, got %s", ttl)
	}
	if user != "" && !strings.Contains(user, "@") {
		return invalid("--user %q is not an email address", user)
	}
	return nil
}

// storeToken keeps the hash of tok, checked by checkTokenArgs.
func (s *Server) storeToken(ctx context.Context, tok protocol.EnrollToken, user string, uses int, ttl time.Duration) (TokenInfo, error) {
	now := s.now()
	if user != "" {
		// The token's user becomes a user that configurations can target.
		if err := s.Store.PutUser(ctx, store.User{Email: strings.ToLower(user), CreatedAt: now}); err != nil {
			return TokenInfo{}, fmt.Errorf("add user: %w", err)
		}
	}
	t := store.Token{
		Hash: tok.SecretHash(), User: strings.ToLower(user), UsesLeft: uses,
		ExpiresAt: now.Add(ttl), CreatedAt: now,
	}
	if err := s.Store.CreateToken(ctx, t); err != nil {
		return TokenInfo{}, fmt.Errorf("create token: %w", err)
	}
	return s.tokenInfo(t), nil
}

var inputName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,63}$`)

// ParseInputDecl reads LABEL:NAME[=DEFAULT] as given to `script add --input`.
func ParseInputDecl(s string) (store.InputDecl, error) {
	label, rest, ok := strings.Cut(s, ":")
	if !ok || strings.TrimSpace(label) == "" {
		return store.InputDecl{}, invalid("--input %q: want LABEL:NAME[=DEFAULT]", s)
	}
	name, def, _ := strings.Cut(rest, "=")
	if !inputName.MatchString(name) {
		return store.InputDecl{}, invalid("--input %q: name %q must be letters, digits and _, starting with a letter", s, name)
	}
	if err := variables.Check(def); err != nil {
		return store.InputDecl{}, fmt.Errorf("%w: --input %q: %v", ErrInvalid, s, err)
	}
	return store.InputDecl{Label: strings.TrimSpace(label), Name: name, Default: def}, nil
}

func inputNames(in []store.InputDecl) string {
	if len(in) == 0 {
		return "none"
	}
	names := make([]string, len(in))
	for i, d := range in {
		names[i] = d.Name
	}
	return strings.Join(names, ", ")
}

// SetDeviceGroups replaces the groups of a device.
// "none" alone clears them; names are comma-separated or separate words.
func (s *Server) SetDeviceGroups(ctx context.Context, id string, groups []string) error {
	clean := []string{}
	if list := splitList(groups); !(len(list) == 1 && list[0] == "none") {
		for _, g := range list {
			if err := checkGroupName(g); err != nil {
				return err
			}
			if !slices.Contains(clean, g) {
				clean = append(clean, g)
			}
		}
	}
	sort.Strings(clean)
	d, err := s.Store.Device(ctx, id)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return invalid("no device %q; see `mobileatwork-server devices`", id)
		}
		return err
	}
	if err := s.Store.SetDeviceGroups(ctx, id, clean); err != nil {
		return err
	}
	return s.audit(ctx, "device.groups", "device "+id, orNoChange(change("groups", memberList(d.Groups), memberList(clean))))
}
