package server

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mobileatwork/mobileatwork/server/accounts"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// AccountInfo is an administrator account as listings show it: never its
// password hash.
type AccountInfo struct {
	Name         string
	Role         accounts.Role
	CreatedAt    time.Time
	LastLoginAt  time.Time
	FailedLogins int
	LockedUntil  time.Time // zero unless locked now
	// GeneratedPassword is the password the server chose, returned once
	// by AddAccount and SetAccountPassword when none was given.
	GeneratedPassword string
}

func (s *Server) accountInfo(a store.Account) AccountInfo {
	ai := AccountInfo{Name: a.Name, Role: accounts.Role(a.Role), CreatedAt: a.CreatedAt, LastLoginAt: a.LastLoginAt, FailedLogins: a.FailedLogins}
	if lockoutOf(a).Locked(s.now()) {
		ai.LockedUntil = a.LockedUntil
	}
	return ai
}

func lockoutOf(a store.Account) accounts.Lockout {
	return accounts.Lockout{Failures: a.FailedLogins, FirstFailureAt: a.FirstFailureAt, LockedUntil: a.LockedUntil}
}

func setLockout(a *store.Account, l accounts.Lockout) {
	a.FailedLogins, a.FirstFailureAt, a.LockedUntil = l.Failures, l.FirstFailureAt, l.LockedUntil
}

func checkRole(r accounts.Role) error {
	if _, err := accounts.ParseRole(string(r)); err != nil || accounts.Role(string(r)) != r {
		return invalid("--role %q: want admin, operator or auditor", r)
	}
	return nil
}

// password is the password to keep: p checked, or a generated one when p
// is empty, with its hash.
func password(p string) (plain, hash string, generated bool, err error) {
	if p == "" {
		p, generated = accounts.GeneratePassword(), true
	} else if err := accounts.CheckPasswordRules(p); err != nil {
		return "", "", false, invalid("%v", err)
	}
	hash, err = accounts.HashPassword(p)
	return p, hash, generated, err
}

func accountObject(name string) string { return "account " + name }

// noAccount is the refusal of a name that is no account.
func noAccount(name string) error {
	return invalid("no account %q; see `mobileatwork-server admin list`", name)
}

// accountErr turns the store's refusals into the administrator's words.
func accountErr(name string, err error) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return noAccount(name)
	case errors.Is(err, store.ErrLastAdmin):
		return invalid("%q is the last admin account: make another account admin first", name)
	}
	return err
}

// AddAccount adds an administrator account. Without a password one is
// generated and returned once in GeneratedPassword.
func (s *Server) AddAccount(ctx context.Context, name string, role accounts.Role, pw string) (AccountInfo, error) {
	n, err := accounts.CheckName("account", name)
	if err != nil {
		return AccountInfo{}, invalid("%v", err)
	}
	if err := checkRole(role); err != nil {
		return AccountInfo{}, err
	}
	plain, hash, generated, err := password(pw)
	if err != nil {
		return AccountInfo{}, err
	}
	a := store.Account{Name: n, Role: string(role), PasswordHash: hash, CreatedAt: s.now()}
	if err := s.Store.CreateAccount(ctx, a); errors.Is(err, store.ErrExists) {
		return AccountInfo{}, invalid("account %q exists already; see `mobileatwork-server admin list`", n)
	} else if err != nil {
		return AccountInfo{}, err
	}
	ai := s.accountInfo(a)
	if generated {
		ai.GeneratedPassword = plain
	}
	return ai, s.audit(ctx, "account.add", accountObject(n), "role: "+string(role))
}

// Accounts lists the administrator accounts by name.
func (s *Server) Accounts(ctx context.Context) ([]AccountInfo, error) {
	as, err := s.Store.Accounts(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]AccountInfo, 0, len(as))
	for _, a := range as {
		out = append(out, s.accountInfo(a))
	}
	return out, nil
}

// RemoveAccount removes an account and ends its sessions; the last admin
// account stays.
func (s *Server) RemoveAccount(ctx context.Context, name string) error {
	n, err := accounts.CheckName("account", name)
	if err != nil {
		return noAccount(name)
	}
	a, err := s.Store.DeleteAccount(ctx, n)
	if err != nil {
		return accountErr(n, err)
	}
	return s.audit(ctx, "account.remove", accountObject(n), "role: "+a.Role)
}

// SetAccountPassword replaces an account's password (a generated one,
// returned once, when pw is empty), lifts its lockout and ends its
// sessions: whoever knew the old password is logged out.
func (s *Server) SetAccountPassword(ctx context.Context, name, pw string) (AccountInfo, error) {
	n, err := accounts.CheckName("account", name)
	if err != nil {
		return AccountInfo{}, noAccount(name)
	}
	if _, err := s.Store.Account(ctx, n); err != nil {
		return AccountInfo{}, accountErr(n, err)
	}
	plain, hash, generated, err := password(pw)
	if err != nil {
		return AccountInfo{}, err
	}
	a, err := s.Store.UpdateAccount(ctx, n, func(a *store.Account) error {
		a.PasswordHash = hash
		setLockout(a, accounts.Lockout{})
		return nil
	})
	if err != nil {
		return AccountInfo{}, accountErr(n, err)
	}
	ended, err := s.Store.DeleteSessions(ctx, n)
	if err != nil {
		return AccountInfo{}, fmt.Errorf("password changed, but its sessions could not be ended: %w", err)
	}
	ai := s.accountInfo(a)
	if generated {
		ai.GeneratedPassword = plain
	}
	return ai, s.audit(ctx, "account.passwd", accountObject(n), fmt.Sprintf("password changed; sessions ended: %d", ended))
}

// SetAccountRole changes an account's role; the last admin stays admin.
// Its sessions take the new role at their next request.
func (s *Server) SetAccountRole(ctx context.Context, name string, role accounts.Role) (AccountInfo, error) {
	n, err := accounts.CheckName("account", name)
	if err != nil {
		return AccountInfo{}, noAccount(name)
	}
	if err := checkRole(role); err != nil {
		return AccountInfo{}, err
	}
	var before string
	a, err := s.Store.UpdateAccount(ctx, n, func(a *store.Account) error {
		before, a.Role = a.Role, string(role)
		return nil
	})
	if err != nil {
		return AccountInfo{}, accountErr(n, err)
	}
	if before == a.Role {
		return s.accountInfo(a), nil
	}
	return s.accountInfo(a), s.audit(ctx, "account.role", accountObject(n), change("role", before, a.Role))
}

// UnlockAccount lifts an account's lockout and forgets its failed logins.
func (s *Server) UnlockAccount(ctx context.Context, name string) (AccountInfo, error) {
	n, err := accounts.CheckName("account", name)
	if err != nil {
		return AccountInfo{}, noAccount(name)
	}
	var before accounts.Lockout
	a, err := s.Store.UpdateAccount(ctx, n, func(a *store.Account) error {
		before = lockoutOf(*a)
		setLockout(a, accounts.Lockout{})
		return nil
	})
	if err != nil {
		return AccountInfo{}, accountErr(n, err)
	}
	was := fmt.Sprintf("%d failed logins", before.Failures)
	if before.Locked(s.now()) {
		was = "locked until " + stampOrNever(before.LockedUntil)
	}
	return s.accountInfo(a), s.audit(ctx, "account.unlock", accountObject(n), change("lockout", was, "unlocked"))
}
