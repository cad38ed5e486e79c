package store

import (
	"context"
	"errors"
	"time"
)

// ErrLastAdmin refuses a change that would leave the tenant without an
// administrator account.
var ErrLastAdmin = errors.New("last administrator account")

// RoleAdmin is the role ErrLastAdmin protects (accounts.RoleAdmin).
const RoleAdmin = "admin"

// Account is an administrator's account. Only the argon2id hash of its
// password is kept.
type Account struct {
	Name           string // unique, lower case
	Role           string // accounts.Role
	PasswordHash   string // encoded argon2id
	CreatedAt      time.Time
	FailedLogins   int       // within the window starting at FirstFailureAt
	FirstFailureAt time.Time // zero without failures
	LockedUntil    time.Time // zero unless locked once
	LastLoginAt    time.Time // zero until the first login
}

// AccountStore keeps administrator accounts.
type AccountStore interface {
	// CreateAccount stores a new account; ErrExists for a taken name.
	CreateAccount(ctx context.Context, a Account) error
	// Account returns one account; ErrNotFound.
	Account(ctx context.Context, name string) (Account, error)
	// Accounts returns every account by name.
	Accounts(ctx context.Context) ([]Account, error)
	// UpdateAccount reads the account, lets fn change it and stores what
	// fn left (every field but Name and CreatedAt), in one transaction, so
	// that concurrent logins count every failure. An error from fn changes
	// nothing and is returned as is. ErrNotFound; ErrLastAdmin when the
	// account was the last admin and no longer is.
	UpdateAccount(ctx context.Context, name string, fn func(*Account) error) (Account, error)
	// DeleteAccount removes an account and its sessions and returns it as
	// it was; ErrNotFound; ErrLastAdmin for the last admin.
	DeleteAccount(ctx context.Context, name string) (Account, error)
}

// APIToken is a secret that authenticates a program with a role. Only the
// SHA-256 of its secret is kept.
type APIToken struct {
	ID         string
	Name       string // unique, lower case; a revoked token keeps its name
	Role       string
	Hash       []byte
	CreatedBy  string // the actor that created it
	CreatedAt  time.Time
	ExpiresAt  time.Time // zero: never
	LastUsedAt time.Time // zero until first used
	RevokedAt  time.Time // zero unless revoked
}

// APITokenStore keeps API tokens.
type APITokenStore interface {
	// CreateAPIToken stores a token; ErrExists for a taken id, name or hash.
	CreateAPIToken(ctx context.Context, t APIToken) error
	// APITokenByHash returns the token whose secret has this hash;
	// ErrNotFound.
	APITokenByHash(ctx context.Context, hash []byte) (APIToken, error)
	// APITokens returns every token, the oldest first.
	APITokens(ctx context.Context) ([]APIToken, error)
	// RevokeAPIToken makes the named token unusable and returns it;
	// ErrNotFound. A revoked token keeps its first revocation time.
	RevokeAPIToken(ctx context.Context, name string, at time.Time) (APIToken, error)
	// TouchAPIToken sets the token's last use to at unless it is at or
	// after notBefore already, so a busy client writes seldom. An unknown
	// id is no error.
	TouchAPIToken(ctx context.Context, id string, at, notBefore time.Time) error
}

// Session is a console login. Only the SHA-256 of its secret is kept; the
// CSRF token is kept as it is, worthless without the secret.
type Session struct {
	Hash       []byte
	Account    string
	CSRF       string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time // the absolute limit; the idle one moves with LastSeenAt
}

// SessionStore keeps console sessions.
type SessionStore interface {
	// CreateSession stores a session; ErrExists for a taken hash,
	// ErrNotFound when its account does not exist.
	CreateSession(ctx context.Context, s Session) error
	// Session returns the session whose secret has this hash; ErrNotFound.
	Session(ctx context.Context, hash []byte) (Session, error)
	// TouchSession sets the session's last request to at unless it is at
	// or after notBefore already. An unknown hash is no error.
	TouchSession(ctx context.Context, hash []byte, at, notBefore time.Time) error
	// DeleteSession ends one session; ErrNotFound when there is none.
	DeleteSession(ctx context.Context, hash []byte) error
	// DeleteSessions ends every session of the account and says how many.
	DeleteSessions(ctx context.Context, account string) (int, error)
	// PurgeSessions deletes the sessions past their absolute limit at now
	// or last seen before idleBefore, and says how many.
	PurgeSessions(ctx context.Context, now, idleBefore time.Time) (int, error)
}

// Kinds of audit actors.
const (
	ActorAccount = "account"
	ActorToken   = "token"
	ActorLocal   = "local"
)

// AuditEntry is one change, as the audit log keeps it. Entries are
// appended, never changed nor deleted.
type AuditEntry struct {
	Seq       int64 // assigned by the store, increasing
	At        time.Time
	Actor     string
	ActorKind string // ActorAccount, ActorToken or ActorLocal
	Role      string
	Source    string // the client's address, or "cli"
	Action    string // e.g. config.distribute
	Object    string // e.g. configuration cfg_123 "Nightly"
	Summary   string // e.g. distribution: no one → group:Sales
}

// AuditFilter narrows AuditLog; zero fields match everything.
type AuditFilter struct {
	Since        time.Time // at or after
	Actor        string
	ActionPrefix string // "config." matches config.add and config.set
	// Before keeps entries whose Seq is below it, to page back: the next
	// page is Before the last Seq of this one.
	Before int64
	Limit  int // the newest Limit entries; 0 is no limit
}

// AuditStore keeps the audit log. It has no way to change or delete an
// entry, and the backends refuse such statements.
type AuditStore interface {
	// AppendAudit stores e and returns it with its Seq.
	AppendAudit(ctx context.Context, e AuditEntry) (AuditEntry, error)
	// AuditLog returns the entries f matches, the newest first.
	AuditLog(ctx context.Context, f AuditFilter) ([]AuditEntry, error)
}
