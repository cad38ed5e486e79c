package jsonview

import (
	"time"

	"github.com/mobileatwork/mobileatwork/server"
)

// Account is an administrator account; password only when the server
// generated it, the one time it is shown.
type Account struct {
	Name              string     `json:"name"`
	Role              string     `json:"role"`
	CreatedAt         *time.Time `json:"created_at,omitempty"`
	LastLoginAt       *time.Time `json:"last_login_at,omitempty"`
	FailedLogins      int        `json:"failed_logins"`
	LockedUntil       *time.Time `json:"locked_until,omitempty"`
	GeneratedPassword string     `json:"generated_password,omitempty"`
}

// NewAccount shapes an account.
func NewAccount(a server.AccountInfo) Account {
	return Account{
		Name: a.Name, Role: string(a.Role), CreatedAt: when(a.CreatedAt), LastLoginAt: when(a.LastLoginAt),
		FailedLogins: a.FailedLogins, LockedUntil: when(a.LockedUntil), GeneratedPassword: a.GeneratedPassword,
	}
}

// APIToken is an API token; never its secret.
type APIToken struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Role       string     `json:"role"`
	State      string     `json:"state"`
	CreatedBy  string     `json:"created_by"`
	CreatedAt  *time.Time `json:"created_at,omitempty"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"` // absent: never
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

// NewAPIToken shapes an API token.
func NewAPIToken(t server.APITokenInfo) APIToken {
	return APIToken{
		ID: t.ID, Name: t.Name, Role: string(t.Role), State: t.State, CreatedBy: t.CreatedBy, CreatedAt: when(t.CreatedAt),
		ExpiresAt: when(t.ExpiresAt), LastUsedAt: when(t.LastUsedAt), RevokedAt: when(t.RevokedAt),
	}
}

// AuditEntry is one entry of the audit log.
type AuditEntry struct {
	Seq       int64      `json:"seq"`
	At        *time.Time `json:"at,omitempty"`
	Actor     string     `json:"actor"`
	ActorKind string     `json:"actor_kind"`
	Role      string     `json:"role"`
	Source    string     `json:"source"`
	Action    string     `json:"action"`
	Object    string     `json:"object"`
	Summary   string     `json:"summary"`
}

// NewAuditEntry shapes an audit entry.
func NewAuditEntry(e server.AuditEntry) AuditEntry {
	return AuditEntry{
		Seq: e.Seq, At: when(e.At), Actor: e.Actor, ActorKind: e.ActorKind, Role: e.Role, Source: e.Source,
		Action: e.Action, Object: e.Object, Summary: e.Summary,
	}
}
