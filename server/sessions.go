package server

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mobileatwork/mobileatwork/server/accounts"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// ErrLocked is a login refused because the account is locked after too
// many failed logins. It is also ErrUnauthenticated.
var ErrLocked = errors.New("account locked")

// SessionInfo is a console session: its secret (the cookie), its CSRF
// token, and when it ends unless used again.
type SessionInfo struct {
	Secret    string
	CSRF      string
	ExpiresAt time.Time
}

// errLogin is every refusal of a name and password that says nothing of
// which was wrong.
var errLogin = fmt.Errorf("%w: wrong account name or password", ErrUnauthenticated)

// errLockedNow is the refusal of a locked account: the one that may say
// the name exists, so that its owner knows to wait.
var errLockedNow = fmt.Errorf("%w: %w: too many failed logins; try again later", ErrUnauthenticated, ErrLocked)

// Login checks a name and password and opens a console session. A locked
// account is refused even with the right password; MaxFailures failures
// within FailureWindow lock it for LockDuration. Every attempt is in the
// audit log: account.login, account.login_failed, and account.locked when
// a failure locks the account.
func (s *Server) Login(ctx context.Context, name, pw, source string) (Actor, SessionInfo, error) {
	now := s.now()
	n, nameErr := accounts.CheckName("account", name)
	a, err := s.Store.Account(ctx, n)
	if nameErr != nil || errors.Is(err, store.ErrNotFound) {
		accounts.BurnPasswordCheck(pw)
		tried := Actor{Name: name, Kind: store.ActorAccount, Source: source}
		return Actor{}, SessionInfo{}, s.refuseLogin(ctx, tried, "unknown account", errLogin)
	} else if err != nil {
		return Actor{}, SessionInfo{}, err
	}
	actor := Actor{Name: a.Name, Kind: store.ActorAccount, Role: accounts.Role(a.Role), Source: source}
	if lockoutOf(a).Locked(now) {
		return Actor{}, SessionInfo{}, s.refuseLogin(ctx, actor, "locked until "+stampOrNever(a.LockedUntil), errLockedNow)
	}
	// The slow hash runs outside the store's transaction; the lockout is
	// read again inside it, so concurrent attempts count each failure.
	ok := accounts.CheckPassword(pw, a.PasswordHash)
	var locked, wasLocked bool
	a, err = s.Store.UpdateAccount(ctx, a.Name, func(a *store.Account) error {
		l := lockoutOf(*a)
		if wasLocked = l.Locked(now); wasLocked {
			return nil
		}
		if ok {
			setLockout(a, l.Succeed())
			a.LastLoginAt = now
			return nil
		}
		var next accounts.Lockout
		next, locked = l.Fail(now)
		setLockout(a, next)
		return nil
	})
	if err != nil {
		return Actor{}, SessionInfo{}, err
	}
	switch {
	case wasLocked:
		return Actor{}, SessionInfo{}, s.refuseLogin(ctx, actor, "locked until "+stampOrNever(a.LockedUntil), errLockedNow)
	case !ok && locked:
		if err := s.refuseLogin(ctx, actor, "wrong password", errLogin); !errors.Is(err, ErrUnauthenticated) {
			return Actor{}, SessionInfo{}, err
		}
		summary := fmt.Sprintf("locked until %s after %d failed logins", stampOrNever(a.LockedUntil), accounts.MaxFailures)
		return Actor{}, SessionInfo{}, s.refuseLogin(ctx, actor, summary, errLogin, "account.locked")
	case !ok:
		return Actor{}, SessionInfo{}, s.refuseLogin(ctx, actor, fmt.Sprintf("wrong password (%d of %d failures)", a.FailedLogins, accounts.MaxFailures), errLogin)
	}
	if _, err := s.Store.PurgeSessions(ctx, now, now.Add(-accounts.IdleTimeout)); err != nil {
		s.Log.Sugar().Warnf("purge ended sessions: %v", err)
	}
	secret, hash := accounts.NewSecret(accounts.SessionPrefix)
	csrf, _ := accounts.NewSecret(accounts.CSRFPrefix)
	se := store.Session{Hash: hash, Account: a.Name, CSRF: csrf, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(accounts.AbsoluteTimeout)}
	if err := s.Store.CreateSession(ctx, se); err != nil {
		return Actor{}, SessionInfo{}, fmt.Errorf("open session: %w", err)
	}
	info := SessionInfo{Secret: secret, CSRF: csrf, ExpiresAt: accounts.SessionExpiry(now, now)}
	return actor, info, s.audit(WithActor(ctx, actor), "account.login", accountObject(a.Name), "session opened")
}

// refuseLogin records a refused login under the actor that tried and
// returns refusal, or the failure to record it.
func (s *Server) refuseLogin(ctx context.Context, tried Actor, summary string, refusal error, action ...string) error {
	act := "account.login_failed"
	if len(action) > 0 {
		act = action[0]
	}
	name, _ := accounts.CheckName("account", tried.Name)
	if name == "" {
		name = tried.Name
	}
	if err := s.RecordAudit(WithActor(ctx, tried), act, accountObject(oneLine(name)), summary); err != nil {
		return fmt.Errorf("login refused, and the audit log could not record it: %w", err)
	}
	return refusal
}

// Session returns the actor and session a session secret stands for. A
// session ends accounts.IdleTimeout after its last request and
// accounts.AbsoluteTimeout after its login; an ended or unknown one is
// ErrUnauthenticated. Each request moves the idle limit (the last request
// is written at most once every accounts.TouchEvery). The actor has the
// account's role as it is now; Source is left to the caller.
func (s *Server) Session(ctx context.Context, secret string) (Actor, SessionInfo, error) {
	refused := fmt.Errorf("%w: the session is unknown or has ended; log in again", ErrUnauthenticated)
	se, err := s.session(ctx, secret)
	if err != nil {
		return Actor{}, SessionInfo{}, err
	}
	if se == nil {
		return Actor{}, SessionInfo{}, refused
	}
	now := s.now()
	if !now.Before(accounts.SessionExpiry(se.CreatedAt, se.LastSeenAt)) {
		if err := s.Store.DeleteSession(ctx, se.Hash); err != nil && !errors.Is(err, store.ErrNotFound) {
			s.Log.Sugar().Warnf("delete an ended session: %v", err)
		}
		return Actor{}, SessionInfo{}, refused
	}
	a, err := s.Store.Account(ctx, se.Account)
	if errors.Is(err, store.ErrNotFound) {
		return Actor{}, SessionInfo{}, refused
	} else if err != nil {
		return Actor{}, SessionInfo{}, err
	}
	if !now.Before(se.LastSeenAt.Add(accounts.TouchEvery)) {
		if err := s.Store.TouchSession(ctx, se.Hash, now, now.Add(-accounts.TouchEvery)); err != nil {
			s.Log.Sugar().Warnf("record a session's request: %v", err)
		}
	}
	return Actor{Name: a.Name, Kind: store.ActorAccount, Role: accounts.Role(a.Role)},
		SessionInfo{Secret: secret, CSRF: se.CSRF, ExpiresAt: accounts.SessionExpiry(se.CreatedAt, now)}, nil
}

// session reads the session of a secret; nil when there is none.
func (s *Server) session(ctx context.Context, secret string) (*store.Session, error) {
	if len(secret) <= len(accounts.SessionPrefix) || secret[:len(accounts.SessionPrefix)] != accounts.SessionPrefix {
		return nil, nil
	}
	se, err := s.Store.Session(ctx, accounts.HashSecret(secret))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &se, nil
}

// Logout ends a session; an unknown or ended one is ErrUnauthenticated.
func (s *Server) Logout(ctx context.Context, secret string) error {
	se, err := s.session(ctx, secret)
	if err != nil {
		return err
	}
	if se == nil {
		return fmt.Errorf("%w: no such session", ErrUnauthenticated)
	}
	if err := s.Store.DeleteSession(ctx, se.Hash); errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: no such session", ErrUnauthenticated)
	} else if err != nil {
		return err
	}
	// The entry is the session's own account's, whoever the context names.
	a, _ := ActorFrom(ctx)
	a = Actor{Name: se.Account, Kind: store.ActorAccount, Source: a.Source}
	if acc, err := s.Store.Account(ctx, se.Account); err == nil {
		a.Role = accounts.Role(acc.Role)
	}
	return s.audit(WithActor(ctx, a), "account.logout", accountObject(se.Account), "session closed")
}
