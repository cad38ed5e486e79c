package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/protocol/schedule"
	"github.com/mobileatwork/mobileatwork/server/settings"
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
	if uses < 1 {
		return "", invalid("--uses must be at least 1, got %d", uses)
	}
	if ttl <= 0 {
		return "", invalid("--ttl must be positive, got %s", ttl)
	}
	if user != "" && !strings.Contains(user, "@") {
		return "", invalid("--user %q is not an email address", user)
	}
	tok, err := protocol.NewEnrollToken(s.Tenant.CAPin())
	if err != nil {
		return "", err
	}
	now := s.now()
	err = s.Store.CreateToken(ctx, store.Token{
		Hash: tok.SecretHash(), User: strings.ToLower(user), UsesLeft: uses,
		ExpiresAt: now.Add(ttl), CreatedAt: now,
	})
	if err != nil {
		return "", fmt.Errorf("create token: %w", err)
	}
	return tok.String(), nil
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

// AddScript validates a script, seals it (signed by the tenant, encrypted
// with a fresh key), stores the blob under the data directory and returns it.
func (s *Server) AddScript(ctx context.Context, name string, body []byte, inputs []store.InputDecl) (store.Script, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return store.Script{}, invalid("--name is required")
	case len(body) == 0:
		return store.Script{}, invalid("the script file is empty")
	case len(body) > protocol.MaxScriptBytes:
		return store.Script{}, invalid("the script is %d bytes; the limit is %d (1 MB)", len(body), protocol.MaxScriptBytes)
	case !utf8.Valid(body) || bytes.IndexByte(body, 0) >= 0:
		return store.Script{}, invalid("the script is not text (NUL bytes or invalid UTF-8); upload a shell script")
	}
	seen := map[string]bool{}
	for _, in := range inputs {
		if seen[strings.ToLower(in.Name)] {
			return store.Script{}, invalid("input %q is declared twice", in.Name)
		}
		seen[strings.ToLower(in.Name)] = true
	}
	sc := store.Script{
		ID: newID("scr"), Name: name, SHA256: protocol.SHA256Hex(body),
		Size: int64(len(body)), Inputs: inputs, CreatedAt: s.now(),
	}
	blob, key, err := protocol.SealScript(protocol.Script{
		ScriptID: sc.ID, Name: name, SHA256: sc.SHA256, Body: body, SignedAt: sc.CreatedAt,
	}, s.Tenant.Signing)
	if err != nil {
		return store.Script{}, fmt.Errorf("seal script: %w", err)
	}
	sc.BlobSHA256, sc.BlobKey = protocol.SHA256Hex(blob), key
	if err := s.Blobs.Put(sc.ID, blob); err != nil {
		return store.Script{}, err
	}
	if err := s.Store.CreateScript(ctx, sc); err != nil {
		return store.Script{}, fmt.Errorf("store script: %w", err)
	}
	return sc, nil
}

// AssignRequest is what `assign` asks for.
type AssignRequest struct {
	ScriptID string
	To       string // all | device:ID | group:NAME | user:EMAIL
	Schedule schedule.Spec
	Inputs   []string // NAME=VALUE overrides
	RunAs    string
}

// ParseTarget reads all | device:ID | group:NAME | user:EMAIL.
func ParseTarget(to string) (kind, id string, err error) {
	if to == store.TargetAll {
		return store.TargetAll, "", nil
	}
	k, v, ok := strings.Cut(to, ":")
	if ok && strings.TrimSpace(v) != "" {
		switch k {
		case store.TargetDevice, store.TargetGroup:
			return k, strings.TrimSpace(v), nil
		case store.TargetUser:
			return k, strings.ToLower(strings.TrimSpace(v)), nil
		}
	}
	return "", "", invalid("--to %q: want all, device:ID, group:NAME or user:EMAIL", to)
}

// Assign validates and stores an assignment. Nothing is saved on error.
func (s *Server) Assign(ctx context.Context, req AssignRequest) (store.Assignment, error) {
	sc, err := s.Store.Script(ctx, req.ScriptID)
	if errors.Is(err, store.ErrNotFound) {
		return store.Assignment{}, invalid("no script %q; see `mobileatwork-server scripts`", req.ScriptID)
	} else if err != nil {
		return store.Assignment{}, err
	}
	kind, id, err := ParseTarget(req.To)
	if err != nil {
		return store.Assignment{}, err
	}
	if kind == store.TargetDevice {
		if _, err := s.Store.Device(ctx, id); errors.Is(err, store.ErrNotFound) {
			return store.Assignment{}, invalid("no device %q; see `mobileatwork-server devices`", id)
		} else if err != nil {
			return store.Assignment{}, err
		}
	}
	if req.Schedule.Kind == "" {
		req.Schedule.Kind = schedule.Once
	}
	if err := req.Schedule.Validate(); err != nil {
		return store.Assignment{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	switch req.RunAs {
	case "":
		req.RunAs = protocol.RunAsRoot
	case protocol.RunAsRoot, protocol.RunAsConsoleUser:
	default:
		return store.Assignment{}, invalid("--run-as %q: want root or console_user", req.RunAs)
	}
	declared := map[string]bool{}
	for _, in := range sc.Inputs {
		declared[in.Name] = true
	}
	overrides := map[string]string{}
	for _, kv := range req.Inputs {
		name, value, ok := strings.Cut(kv, "=")
		if !ok {
			return store.Assignment{}, invalid("--input %q: want NAME=VALUE", kv)
		}
		if !declared[name] {
			return store.Assignment{}, invalid("--input %q: script %s declares no input %q (inputs: %s)", kv, sc.ID, name, inputNames(sc.Inputs))
		}
		if err := variables.Check(value); err != nil {
			return store.Assignment{}, fmt.Errorf("%w: --input %s: %v", ErrInvalid, name, err)
		}
		overrides[name] = value
	}
	a := store.Assignment{
		ID: newID("asg"), ScriptID: sc.ID, Target: kind, TargetID: id,
		Schedule: req.Schedule, Inputs: overrides, RunAs: req.RunAs, Version: 1, CreatedAt: s.now(),
	}
	if err := s.Store.CreateAssignment(ctx, a); err != nil {
		return store.Assignment{}, fmt.Errorf("store assignment: %w", err)
	}
	return a, nil
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

// SetConfig validates KEY=VALUE words and stores them all, or none.
func (s *Server) SetConfig(ctx context.Context, words []string) (map[string]string, error) {
	kv, err := settings.ParseAssignments(words)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if err := s.Store.SetConfig(ctx, kv); err != nil {
		return nil, fmt.Errorf("store configuration: %w", err)
	}
	return s.Config(ctx)
}

// Config returns every key with its effective value.
func (s *Server) Config(ctx context.Context) (map[string]string, error) {
	stored, err := s.Store.Config(ctx)
	if err != nil {
		return nil, fmt.Errorf("read configuration: %w", err)
	}
	return settings.Merge(stored), nil
}

// SetDeviceGroups replaces the groups of a device.
func (s *Server) SetDeviceGroups(ctx context.Context, id string, groups []string) error {
	clean := make([]string, 0, len(groups))
	for _, g := range groups {
		if g = strings.TrimSpace(g); g != "" {
			clean = append(clean, g)
		}
	}
	sort.Strings(clean)
	if _, err := s.Store.Device(ctx, id); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return invalid("no device %q; see `mobileatwork-server devices`", id)
		}
		return err
	}
	return s.Store.SetDeviceGroups(ctx, id, clean)
}
