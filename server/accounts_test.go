package server

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/server/accounts"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// clockTenant is a tenant whose clock the test moves.
func clockTenant(t *testing.T) (*Server, *time.Time) {
	t.Helper()
	lowerArgon2(t)
	s, _ := newTestServer(t)
	now := t0
	s.Now = func() time.Time { return now }
	return s, &now
}

func TestAddAccount(t *testing.T) {
	s, _ := clockTenant(t)
	ctx := t.Context()
	given, err := s.AddAccount(ctx, "Ada", accounts.RoleAdmin, "a long enough password")
	if err != nil || given.Name != "ada" || given.Role != accounts.RoleAdmin || given.GeneratedPassword != "" || !given.CreatedAt.Equal(t0) {
		t.Fatalf("AddAccount = %+v, %v", given, err)
	}
	gen, err := s.AddAccount(ctx, "bob", accounts.RoleAuditor, "")
	if err != nil || len(gen.GeneratedPassword) != accounts.GeneratedPasswordLen {
		t.Fatalf("AddAccount without a password = %+v, %v; want one generated", gen, err)
	}
	if _, _, err := s.Login(ctx, "bob", gen.GeneratedPassword, "192.0.2.1"); err != nil {
		t.Errorf("login with the generated password: %v", err)
	}
	a, _ := s.Store.Account(ctx, "ada")
	if strings.Contains(a.PasswordHash, "a long enough password") || !strings.HasPrefix(a.PasswordHash, "$argon2id$") {
		t.Errorf("stored %q, want an argon2id hash", a.PasswordHash)
	}
	list, err := s.Accounts(ctx)
	if err != nil || len(list) != 2 || list[0].Name != "ada" || list[1].Name != "bob" || list[1].GeneratedPassword != "" {
		t.Errorf("Accounts = %+v, %v", list, err)
	}
}

func TestLastAdminStays(t *testing.T) {
	s, _ := clockTenant(t)
	ctx := t.Context()
	for _, n := range []string{"ada", "bob"} {
		if _, err := s.AddAccount(ctx, n, accounts.RoleAdmin, ""); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.SetAccountRole(ctx, "bob", accounts.RoleOperator); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetAccountRole(ctx, "ada", accounts.RoleAuditor); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "last admin") {
		t.Errorf("demoting the last admin = %v", err)
	}
	if err := s.RemoveAccount(ctx, "ada"); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "last admin") {
		t.Errorf("removing the last admin = %v", err)
	}
	if err := s.RemoveAccount(ctx, "bob"); err != nil {
		t.Errorf("removing an operator = %v", err)
	}
	if err := s.RemoveAccount(ctx, "bob"); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "no account") {
		t.Errorf("removing a removed account = %v", err)
	}
}

func TestLoginLockout(t *testing.T) {
	s, now := clockTenant(t)
	ctx := t.Context()
	if _, err := s.AddAccount(ctx, "ada", accounts.RoleAdmin, "the right password"); err != nil {
		t.Fatal(err)
	}
	for i := range accounts.MaxFailures {
		*now = t0.Add(time.Duration(i) * time.Minute)
		_, _, err := s.Login(ctx, "ada", "a wrong password", "192.0.2.1")
		if !errors.Is(err, ErrUnauthenticated) || errors.Is(err, ErrLocked) || err.Error() != errLogin.Error() {
			t.Fatalf("failure %d: %v, want the one refusal", i+1, err)
		}
	}
	// Locked: even the right password is refused, and says to wait.
	*now = t0.Add(5 * time.Minute)
	if _, _, err := s.Login(ctx, "ada", "the right password", "192.0.2.1"); !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "try again later") {
		t.Fatalf("locked account with the right password: %v", err)
	}
	if info, _ := s.Accounts(ctx); !info[0].LockedUntil.Equal(t0.Add(4*time.Minute + accounts.LockDuration)) {
		t.Errorf("locked until %s, want 15 minutes after the fifth failure", info[0].LockedUntil)
	}
	// The lock lapses.
	*now = t0.Add(4*time.Minute + accounts.LockDuration)
	if _, _, err := s.Login(ctx, "ada", "the right password", "192.0.2.1"); err != nil {
		t.Fatalf("after the lock: %v", err)
	}
	a, _ := s.Store.Account(ctx, "ada")
	if a.FailedLogins != 0 || !a.LastLoginAt.Equal(*now) {
		t.Errorf("after a login: %+v, want failures forgotten and the login time", a)
	}
	// An unknown name gets the very same refusal.
	if _, _, err := s.Login(ctx, "nobody", "a wrong password", "192.0.2.1"); err == nil || err.Error() != errLogin.Error() {
		t.Errorf("unknown name: %v, want %v", err, errLogin)
	}
	// Unlock lifts a lock at once.
	for range accounts.MaxFailures {
		s.Login(ctx, "ada", "a wrong password", "192.0.2.1")
	}
	if _, _, err := s.Login(ctx, "ada", "the right password", "192.0.2.1"); !errors.Is(err, ErrLocked) {
		t.Fatalf("locked again: %v", err)
	}
	if _, err := s.UnlockAccount(ctx, "ada"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Login(ctx, "ada", "the right password", "192.0.2.1"); err != nil {
		t.Errorf("after unlock: %v", err)
	}

	var got []string
	es, _ := s.AuditLog(ctx, AuditQuery{Action: "account.lo"})
	for _, e := range es {
		got = append(got, e.Action+" "+e.Actor+" "+e.Summary)
	}
	for _, want := range []string{
		"account.login_failed ada wrong password (1 of 5 failures)",
		"account.locked ada locked until 2026-03-14T09:19:00Z after 5 failed logins",
		"account.login_failed ada locked until 2026-03-14T09:19:00Z",
		"account.login ada session opened",
		"account.login_failed nobody unknown account",
	} {
		if !strings.Contains(strings.Join(got, "\n"), want) {
			t.Errorf("audit log lacks %q:\n%s", want, strings.Join(got, "\n"))
		}
	}
}

func TestSessionExpiry(t *testing.T) {
	s, now := clockTenant(t)
	ctx := t.Context()
	if _, err := s.AddAccount(ctx, "ada", accounts.RoleOperator, "the right password"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddAccount(ctx, "root", accounts.RoleAdmin, ""); err != nil {
		t.Fatal(err)
	}
	login := func() SessionInfo {
		t.Helper()
		actor, si, err := s.Login(ctx, "ada", "the right password", "192.0.2.1")
		if err != nil || actor.Name != "ada" || actor.Role != accounts.RoleOperator || actor.Source != "192.0.2.1" {
			t.Fatalf("Login = %+v, %v", actor, err)
		}
		if !strings.HasPrefix(si.Secret, accounts.SessionPrefix) || si.CSRF == "" || !si.ExpiresAt.Equal(now.Add(accounts.IdleTimeout)) {
			t.Fatalf("session %+v", si)
		}
		return si
	}
	check := func(si SessionInfo) error {
		_, got, err := s.Session(ctx, si.Secret)
		if err == nil && got.CSRF != si.CSRF {
			t.Errorf("CSRF %q, want the login's %q", got.CSRF, si.CSRF)
		}
		return err
	}

	t.Run("idle", func(t *testing.T) {
		*now = t0
		si := login()
		*now = t0.Add(29 * time.Minute)
		if err := check(si); err != nil {
			t.Fatalf("after 29 idle minutes: %v", err)
		}
		*now = t0.Add(58 * time.Minute) // 29 minutes after the last request
		if err := check(si); err != nil {
			t.Fatalf("a request moves the idle limit: %v", err)
		}
		*now = t0.Add(88 * time.Minute)
		if err := check(si); !errors.Is(err, ErrUnauthenticated) {
			t.Fatalf("after 30 idle minutes: %v, want ErrUnauthenticated", err)
		}
	})
	t.Run("absolute", func(t *testing.T) {
		*now = t0
		si := login()
		for m := 20 * time.Minute; m < accounts.AbsoluteTimeout; m += 20 * time.Minute {
			*now = t0.Add(m)
			if err := check(si); err != nil {
				t.Fatalf("at +%s: %v", m, err)
			}
		}
		*now = t0.Add(accounts.AbsoluteTimeout)
		if err := check(si); !errors.Is(err, ErrUnauthenticated) {
			t.Fatalf("12 hours after the login: %v, want ErrUnauthenticated", err)
		}
	})
	t.Run("role and password changes", func(t *testing.T) {
		*now = t0
		si := login()
		if _, err := s.SetAccountRole(ctx, "ada", accounts.RoleAuditor); err != nil {
			t.Fatal(err)
		}
		if actor, _, err := s.Session(ctx, si.Secret); err != nil || actor.Role != accounts.RoleAuditor {
			t.Errorf("after a role change: %+v, %v; want the new role", actor, err)
		}
		if _, err := s.SetAccountPassword(ctx, "ada", "another long password"); err != nil {
			t.Fatal(err)
		}
		if err := check(si); !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("after a password change: %v, want the session ended", err)
		}
	})
	t.Run("logout", func(t *testing.T) {
		*now = t0
		s.SetAccountPassword(ctx, "ada", "the right password")
		s.SetAccountRole(ctx, "ada", accounts.RoleOperator)
		si := login()
		if err := s.Logout(WithActor(ctx, Actor{Source: "192.0.2.9"}), si.Secret); err != nil {
			t.Fatal(err)
		}
		if es, _ := s.AuditLog(ctx, AuditQuery{Limit: 1}); es[0].Action != "account.logout" || es[0].Actor != "ada" ||
			es[0].Role != "operator" || es[0].Source != "192.0.2.9" {
			t.Errorf("logout entry %+v, want ada's from the request's address", es[0])
		}
		if err := check(si); !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("after logout: %v", err)
		}
		if err := s.Logout(ctx, si.Secret); !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("second logout: %v", err)
		}
		for _, bad := range []string{"", "mawss_", "mawss_forged", si.CSRF} {
			if err := check(SessionInfo{Secret: bad}); !errors.Is(err, ErrUnauthenticated) {
				t.Errorf("Session(%q) = %v", bad, err)
			}
		}
	})
}

func TestAPITokens(t *testing.T) {
	s, now := clockTenant(t)
	ctx := WithActor(t.Context(), Actor{Name: "local:root", Kind: store.ActorLocal, Role: accounts.RoleAdmin, Source: "cli"})
	secret, info, err := s.CreateAPIToken(ctx, "CI", accounts.RoleOperator, time.Hour)
	if err != nil || !strings.HasPrefix(secret, accounts.TokenPrefix) || info.Name != "ci" || info.CreatedBy != "local:root" ||
		!info.ExpiresAt.Equal(t0.Add(time.Hour)) || info.State != APITokenActive {
		t.Fatalf("CreateAPIToken = %q, %+v, %v", secret, info, err)
	}
	forever, _, err := s.CreateAPIToken(ctx, "backup", accounts.RoleAuditor, 0)
	if err != nil {
		t.Fatal(err)
	}
	auth := func(sec string) (Actor, error) { return s.AuthenticateToken(ctx, sec) }
	ci := func() APITokenInfo {
		ts, _ := s.APITokens(ctx)
		for _, tok := range ts {
			if tok.Name == "ci" {
				return tok
			}
		}
		t.Fatal("no token ci")
		return APITokenInfo{}
	}
	if a, err := auth(secret); err != nil || a.Name != "ci" || a.Kind != store.ActorToken || a.Role != accounts.RoleOperator {
		t.Fatalf("AuthenticateToken = %+v, %v", a, err)
	}
	// The last use is written once a minute at most.
	*now = t0.Add(30 * time.Second)
	auth(secret)
	if got := ci(); !got.LastUsedAt.Equal(t0) {
		t.Errorf("last used %s, want the first use within the minute", got.LastUsedAt)
	}
	*now = t0.Add(61 * time.Second)
	auth(secret)
	if got := ci(); !got.LastUsedAt.Equal(*now) {
		t.Errorf("last used %s, want %s", got.LastUsedAt, *now)
	}
	*now = t0.Add(time.Hour)
	if _, err := auth(secret); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("expired token: %v", err)
	}
	if got := ci(); got.State != APITokenExpired {
		t.Errorf("state %q, want expired", got.State)
	}
	*now = t0.Add(1000 * time.Hour)
	if _, err := auth(forever); err != nil {
		t.Errorf("a token without expiry: %v", err)
	}
	if _, err := s.RevokeAPIToken(ctx, "backup"); err != nil {
		t.Fatal(err)
	}
	refusals := map[string]string{"revoked": forever, "unknown": accounts.TokenPrefix + "nope", "no prefix": "nope", "empty": ""}
	var msgs []string
	for name, sec := range refusals {
		_, err := auth(sec)
		if !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("%s token: %v, want ErrUnauthenticated", name, err)
		} else {
			msgs = append(msgs, err.Error())
		}
	}
	for _, m := range msgs {
		if m != msgs[0] {
			t.Errorf("refusals differ: %q and %q", m, msgs[0])
		}
	}
	if _, err := s.RevokeAPIToken(ctx, "nope"); !errors.Is(err, ErrInvalid) {
		t.Errorf("revoking an unknown token: %v", err)
	}
}
