package server

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/mobileatwork/mobileatwork/server/accounts"
	"github.com/mobileatwork/mobileatwork/server/distribution"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// Actor is who asks for a change: an account logged in to the console, an
// API token, or the local administrator at the host's command line.
type Actor struct {
	Name   string
	Kind   string // store.ActorAccount, ActorToken or ActorLocal
	Role   accounts.Role
	Source string // the client's address, or "cli"
}

type actorKey struct{}

// WithActor is ctx carrying the actor every change made with it is
// recorded under.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom is the actor ctx carries.
func ActorFrom(ctx context.Context) (Actor, bool) {
	a, ok := ctx.Value(actorKey{}).(Actor)
	return a, ok
}

// unknownActor is recorded for a change made with no actor in its context.
var unknownActor = Actor{Name: "unknown", Kind: store.ActorLocal}

// AuditEntry is one entry of the audit log.
type AuditEntry = store.AuditEntry

// AuditQuery narrows AuditLog; zero fields match everything.
type AuditQuery struct {
	Since  time.Time
	Actor  string
	Action string // a prefix: "config." matches config.add and config.set
	Before int64  // entries below this seq, to page back
	Limit  int    // the newest Limit; 0 is no limit
}

// RecordAudit appends an entry for the actor ctx carries ("unknown",
// local, without one) at the server's clock.
func (s *Server) RecordAudit(ctx context.Context, action, object, summary string) error {
	a, ok := ActorFrom(ctx)
	if !ok {
		a = unknownActor
	}
	if strings.TrimSpace(action) == "" {
		return invalid("an audit entry needs an action")
	}
	_, err := s.Store.AppendAudit(ctx, store.AuditEntry{
		At: s.now(), Actor: oneLine(a.Name), ActorKind: a.Kind, Role: string(a.Role), Source: oneLine(a.Source),
		Action: action, Object: oneLine(object), Summary: oneLine(summary),
	})
	return err
}

// audit records a change that was made. It is the one line each changing
// method ends with: a failure to record says that the change was made all
// the same, so the caller does not make it twice.
func (s *Server) audit(ctx context.Context, action, object, summary string) error {
	if err := s.RecordAudit(ctx, action, object, summary); err != nil {
		return fmt.Errorf("%s was done, but the audit log could not record it: %w", action, err)
	}
	return nil
}

// AuditLog returns the entries q matches, the newest first.
func (s *Server) AuditLog(ctx context.Context, q AuditQuery) ([]AuditEntry, error) {
	if q.Limit < 0 {
		return nil, invalid("--limit must be 0 (no limit) or more, not %d", q.Limit)
	}
	if q.Before < 0 {
		return nil, invalid("the page cursor must be a positive sequence number, not %d", q.Before)
	}
	es, err := s.Store.AuditLog(ctx, store.AuditFilter{Since: q.Since, Actor: q.Actor, ActionPrefix: q.Action, Before: q.Before, Limit: q.Limit})
	return nonNil(es), err
}

// oneLine keeps recorded text on one line and bounded: names and summaries
// come from requests.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
	if r := []rune(s); len(r) > 1024 {
		s = string(r[:1023]) + "…"
	}
	return s
}

// object names what a change touched: its kind, id and, when it has one,
// its name.
func object(kind, id, name string) string {
	if name == "" {
		return kind + " " + id
	}
	return fmt.Sprintf("%s %s %q", kind, id, name)
}

// change is "field: before → after", or "" when nothing changed.
func change(field, before, after string) string {
	if before == after {
		return ""
	}
	return fmt.Sprintf("%s: %s → %s", field, orNone(before), orNone(after))
}

// changes joins the parts of a summary that say something.
func changes(parts ...string) string {
	return strings.Join(slices.DeleteFunc(parts, func(p string) bool { return p == "" }), "; ")
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// reachWords is a distribution as a summary says it.
func reachWords(ts []distribution.Target) string {
	switch distribution.Level(ts) {
	case "none":
		return "no one"
	case "all":
		return "everyone"
	}
	return distribution.String(ts)
}

func stampOrNever(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format(time.RFC3339)
}
