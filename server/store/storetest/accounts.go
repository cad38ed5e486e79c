package storetest

import (
	"bytes"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/server/store"
)

func newAccount(name, role string) store.Account {
	return store.Account{Name: name, Role: role, PasswordHash: "$argon2id$v=19$m=64,t=1,p=1$c2FsdA$aGFzaA", CreatedAt: at(0)}
}

func testAccounts(t *testing.T, newStore NewStore) {
	t.Run("create and read", func(t *testing.T) {
		s := newStore(t)
		for _, a := range []store.Account{newAccount("bob", "operator"), newAccount("ada", "admin")} {
			if err := s.CreateAccount(ctx(t), a); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.CreateAccount(ctx(t), newAccount("ada", "auditor")); !errors.Is(err, store.ErrExists) {
			t.Errorf("CreateAccount(ada) again = %v, want ErrExists", err)
		}
		got, err := s.Account(ctx(t), "ada")
		want := newAccount("ada", "admin")
		want.CreatedAt = utc(want.CreatedAt)
		if err != nil || got != want {
			t.Errorf("Account(ada) = %+v, %v; want %+v", got, err, want)
		}
		if _, err := s.Account(ctx(t), "carol"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Account(carol) = %v, want ErrNotFound", err)
		}
		all, err := s.Accounts(ctx(t))
		if err != nil || len(all) != 2 || all[0].Name != "ada" || all[1].Name != "bob" {
			t.Errorf("Accounts = %+v, %v; want ada, bob", all, err)
		}
	})
	t.Run("update keeps what fn left", func(t *testing.T) {
		s := newStore(t)
		if err := s.CreateAccount(ctx(t), newAccount("ada", "admin")); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateAccount(ctx(t), newAccount("bob", "admin")); err != nil {
			t.Fatal(err)
		}
		got, err := s.UpdateAccount(ctx(t), "ada", func(a *store.Account) error {
			a.Name, a.CreatedAt = "mallory", at(time.Hour) // ignored
			a.Role, a.PasswordHash, a.FailedLogins = "auditor", "new", 3
			a.FirstFailureAt, a.LockedUntil, a.LastLoginAt = at(tick), at(15*time.Minute), at(2*tick)
			return nil
		})
		want := store.Account{Name: "ada", Role: "auditor", PasswordHash: "new", CreatedAt: utc(at(0)), FailedLogins: 3,
			FirstFailureAt: utc(at(tick)), LockedUntil: utc(at(15 * time.Minute)), LastLoginAt: utc(at(2 * tick))}
		if err != nil {
			t.Fatal(err)
		}
		if read, _ := s.Account(ctx(t), "ada"); read != want || !got.CreatedAt.Equal(want.CreatedAt) || got.Name != "ada" {
			t.Errorf("after UpdateAccount: %+v (returned %+v), want %+v", read, got, want)
		}
		boom := errors.New("boom")
		if _, err := s.UpdateAccount(ctx(t), "ada", func(a *store.Account) error { a.Role = "admin"; return boom }); !errors.Is(err, boom) {
			t.Errorf("UpdateAccount with a failing fn = %v, want it returned", err)
		}
		if read, _ := s.Account(ctx(t), "ada"); read.Role != "auditor" {
			t.Errorf("a failing fn changed the role to %q", read.Role)
		}
		if _, err := s.UpdateAccount(ctx(t), "carol", func(*store.Account) error { return nil }); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("UpdateAccount(carol) = %v, want ErrNotFound", err)
		}
	})
	t.Run("the last admin stays", func(t *testing.T) {
		s := newStore(t)
		for _, a := range []store.Account{newAccount("ada", "admin"), newAccount("bob", "admin"), newAccount("carol", "operator")} {
			if err := s.CreateAccount(ctx(t), a); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.DeleteAccount(ctx(t), "bob"); err != nil {
			t.Fatalf("DeleteAccount(bob) with ada left = %v", err)
		}
		if _, err := s.DeleteAccount(ctx(t), "ada"); !errors.Is(err, store.ErrLastAdmin) {
			t.Errorf("DeleteAccount(ada), the last admin = %v, want ErrLastAdmin", err)
		}
		demote := func(a *store.Account) error { a.Role = "operator"; return nil }
		if _, err := s.UpdateAccount(ctx(t), "ada", demote); !errors.Is(err, store.ErrLastAdmin) {
			t.Errorf("demoting ada, the last admin = %v, want ErrLastAdmin", err)
		}
		if a, _ := s.Account(ctx(t), "ada"); a.Role != "admin" {
			t.Errorf("ada is %q after a refused demotion", a.Role)
		}
		// A login of the last admin changes other fields: not refused.
		if _, err := s.UpdateAccount(ctx(t), "ada", func(a *store.Account) error { a.FailedLogins = 1; return nil }); err != nil {
			t.Errorf("UpdateAccount(ada) keeping the role = %v", err)
		}
		if _, err := s.DeleteAccount(ctx(t), "carol"); err != nil {
			t.Errorf("DeleteAccount(carol) = %v", err)
		}
		if _, err := s.DeleteAccount(ctx(t), "carol"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("DeleteAccount(carol) again = %v, want ErrNotFound", err)
		}
	})
	t.Run("concurrent demotions keep one admin", func(t *testing.T) {
		s := newStore(t)
		for _, n := range []string{"ada", "bob"} {
			if err := s.CreateAccount(ctx(t), newAccount(n, "admin")); err != nil {
				t.Fatal(err)
			}
		}
		errs := make(chan error, 2)
		for _, n := range []string{"ada", "bob"} {
			go func() {
				_, err := s.UpdateAccount(ctx(t), n, func(a *store.Account) error { a.Role = "operator"; return nil })
				errs <- err
			}()
		}
		var refused int
		for range 2 {
			if err := <-errs; errors.Is(err, store.ErrLastAdmin) {
				refused++
			} else if err != nil {
				t.Fatal(err)
			}
		}
		all, _ := s.Accounts(ctx(t))
		admins := slices.IndexFunc(all, func(a store.Account) bool { return a.Role == "admin" })
		if refused != 1 || admins < 0 {
			t.Errorf("%d demotions refused, accounts %+v: want one refused and one admin left", refused, all)
		}
	})
}

func newAPIToken(name string, d time.Duration) store.APIToken {
	return store.APIToken{ID: "atk_" + name, Name: name, Role: "operator", Hash: tokenHash("api " + name), CreatedBy: "local:root",
		CreatedAt: at(d), ExpiresAt: at(d + time.Hour)}
}

func testAPITokens(t *testing.T, newStore NewStore) {
	t.Run("create, read and list", func(t *testing.T) {
		s := newStore(t)
		for i, n := range []string{"ci", "backup", "forever"} {
			tok := newAPIToken(n, time.Duration(i)*time.Minute)
			if n == "forever" {
				tok.ExpiresAt = time.Time{}
			}
			if err := s.CreateAPIToken(ctx(t), tok); err != nil {
				t.Fatal(err)
			}
		}
		for _, dup := range []store.APIToken{
			{ID: "atk_other", Name: "ci", Role: "admin", Hash: tokenHash("x"), CreatedAt: at(0)},
			{ID: "atk_other", Name: "other", Role: "admin", Hash: tokenHash("api ci"), CreatedAt: at(0)},
			{ID: "atk_ci", Name: "other", Role: "admin", Hash: tokenHash("y"), CreatedAt: at(0)},
		} {
			if err := s.CreateAPIToken(ctx(t), dup); !errors.Is(err, store.ErrExists) {
				t.Errorf("CreateAPIToken(%+v) = %v, want ErrExists", dup, err)
			}
		}
		got, err := s.APITokenByHash(ctx(t), tokenHash("api ci"))
		want := newAPIToken("ci", 0)
		if err != nil || got.ID != want.ID || got.Name != "ci" || got.Role != "operator" || !bytes.Equal(got.Hash, want.Hash) ||
			got.CreatedBy != "local:root" || !got.CreatedAt.Equal(want.CreatedAt) || !got.ExpiresAt.Equal(want.ExpiresAt) ||
			!got.LastUsedAt.IsZero() || !got.RevokedAt.IsZero() {
			t.Errorf("APITokenByHash = %+v, %v; want %+v", got, err, want)
		}
		if f, _ := s.APITokenByHash(ctx(t), tokenHash("api forever")); !f.ExpiresAt.IsZero() {
			t.Errorf("a token without expiry reads back expiring %s", f.ExpiresAt)
		}
		if _, err := s.APITokenByHash(ctx(t), tokenHash("nope")); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown hash: %v, want ErrNotFound", err)
		}
		all, err := s.APITokens(ctx(t))
		var names []string
		for _, tok := range all {
			names = append(names, tok.Name)
		}
		if err != nil || !slices.Equal(names, []string{"ci", "backup", "forever"}) {
			t.Errorf("APITokens = %v, %v; want the oldest first", names, err)
		}
	})
	t.Run("revoke keeps the first time", func(t *testing.T) {
		s := newStore(t)
		if err := s.CreateAPIToken(ctx(t), newAPIToken("ci", 0)); err != nil {
			t.Fatal(err)
		}
		for _, when := range []time.Duration{time.Minute, time.Hour} {
			got, err := s.RevokeAPIToken(ctx(t), "ci", at(when))
			if err != nil || !got.RevokedAt.Equal(at(time.Minute)) {
				t.Errorf("RevokeAPIToken at +%s = %s, %v; want the first revocation", when, got.RevokedAt, err)
			}
		}
		if _, err := s.RevokeAPIToken(ctx(t), "other", at(0)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("RevokeAPIToken(other) = %v, want ErrNotFound", err)
		}
	})
	t.Run("touch writes seldom", func(t *testing.T) {
		s := newStore(t)
		if err := s.CreateAPIToken(ctx(t), newAPIToken("ci", 0)); err != nil {
			t.Fatal(err)
		}
		steps := []struct {
			at, notBefore, want time.Duration
		}{
			{at: time.Minute, notBefore: 0, want: time.Minute},                     // first use
			{at: 90 * time.Second, notBefore: 30 * time.Second, want: time.Minute}, // used since notBefore
			{at: 3 * time.Minute, notBefore: 2 * time.Minute, want: 3 * time.Minute},
		}
		for _, st := range steps {
			if err := s.TouchAPIToken(ctx(t), "atk_ci", at(st.at), at(st.notBefore)); err != nil {
				t.Fatal(err)
			}
			if got, _ := s.APITokenByHash(ctx(t), tokenHash("api ci")); !got.LastUsedAt.Equal(at(st.want)) {
				t.Errorf("after touch at +%s: last used +%s, want +%s", st.at, got.LastUsedAt.Sub(at(0)), st.want)
			}
		}
		if err := s.TouchAPIToken(ctx(t), "atk_none", at(0), at(0)); err != nil {
			t.Errorf("TouchAPIToken(unknown) = %v", err)
		}
	})
}

func newSession(secret, account string) store.Session {
	return store.Session{Hash: tokenHash(secret), Account: account, CSRF: "csrf-" + secret, CreatedAt: at(0), LastSeenAt: at(0), ExpiresAt: at(12 * time.Hour)}
}

func testSessions(t *testing.T, newStore NewStore) {
	s := newStore(t)
	for _, n := range []string{"ada", "bob"} {
		if err := s.CreateAccount(ctx(t), newAccount(n, "admin")); err != nil {
			t.Fatal(err)
		}
	}
	for _, se := range []store.Session{newSession("s1", "ada"), newSession("s2", "ada"), newSession("s3", "bob")} {
		if err := s.CreateSession(ctx(t), se); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateSession(ctx(t), newSession("s1", "bob")); !errors.Is(err, store.ErrExists) {
		t.Errorf("CreateSession(s1) again = %v, want ErrExists", err)
	}
	if err := s.CreateSession(ctx(t), newSession("s9", "carol")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("CreateSession for no account = %v, want ErrNotFound", err)
	}
	got, err := s.Session(ctx(t), tokenHash("s1"))
	want := newSession("s1", "ada")
	if err != nil || got.Account != "ada" || got.CSRF != want.CSRF || !got.CreatedAt.Equal(want.CreatedAt) ||
		!got.LastSeenAt.Equal(want.LastSeenAt) || !got.ExpiresAt.Equal(want.ExpiresAt) || !bytes.Equal(got.Hash, want.Hash) {
		t.Errorf("Session(s1) = %+v, %v; want %+v", got, err, want)
	}
	if err := s.TouchSession(ctx(t), tokenHash("s1"), at(2*time.Minute), at(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.TouchSession(ctx(t), tokenHash("s1"), at(150*time.Second), at(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Session(ctx(t), tokenHash("s1")); !got.LastSeenAt.Equal(at(2 * time.Minute)) {
		t.Errorf("last seen +%s, want +2m: the second touch came within the minute", got.LastSeenAt.Sub(at(0)))
	}
	if err := s.DeleteSession(ctx(t), tokenHash("s1")); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSession(ctx(t), tokenHash("s1")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeleteSession(s1) again = %v, want ErrNotFound", err)
	}
	if _, err := s.Session(ctx(t), tokenHash("s1")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Session(s1) after delete = %v, want ErrNotFound", err)
	}
	if n, err := s.DeleteSessions(ctx(t), "ada"); n != 1 || err != nil {
		t.Errorf("DeleteSessions(ada) = %d, %v; want 1", n, err)
	}
	// Removing an account ends its sessions.
	if err := s.CreateSession(ctx(t), newSession("s4", "bob")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeleteAccount(ctx(t), "bob"); err != nil {
		t.Fatal(err)
	}
	for _, sec := range []string{"s3", "s4"} {
		if _, err := s.Session(ctx(t), tokenHash(sec)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("session %s of a removed account: %v, want ErrNotFound", sec, err)
		}
	}

	t.Run("purge", func(t *testing.T) {
		for i, se := range []store.Session{newSession("p1", "ada"), newSession("p2", "ada"), newSession("p3", "ada")} {
			se.LastSeenAt = at(time.Duration(i) * time.Hour)
			if i == 2 {
				se.ExpiresAt = at(2 * time.Hour)
			}
			if err := s.CreateSession(ctx(t), se); err != nil {
				t.Fatal(err)
			}
		}
		// At +2h: p3 reached its absolute limit; p1 was last seen before +1h.
		n, err := s.PurgeSessions(ctx(t), at(2*time.Hour), at(time.Hour))
		if err != nil || n != 2 {
			t.Errorf("PurgeSessions = %d, %v; want 2", n, err)
		}
		if _, err := s.Session(ctx(t), tokenHash("p2")); err != nil {
			t.Errorf("p2, last seen at the idle limit, was purged: %v", err)
		}
	})
}

func testAuditLog(t *testing.T, newStore NewStore) {
	s := newStore(t)
	entries := []store.AuditEntry{
		{At: at(0), Actor: "ada", ActorKind: store.ActorAccount, Role: "admin", Source: "192.0.2.1", Action: "config.add", Object: `configuration cfg_1 "Nightly"`},
		{At: at(time.Minute), Actor: "ci", ActorKind: store.ActorToken, Role: "operator", Source: "192.0.2.2", Action: "config.distribute", Object: `configuration cfg_1 "Nightly"`, Summary: "distribution: no one → group:Sales"},
		{At: at(2 * time.Minute), Actor: "local:root", ActorKind: store.ActorLocal, Role: "admin", Source: "cli", Action: "script.set", Summary: "script body: v2 → v3"},
		{At: at(3 * time.Minute), Actor: "ada", ActorKind: store.ActorAccount, Role: "admin", Source: "192.0.2.1", Action: "configx_add"},
		{At: at(4 * time.Minute), Actor: "ada", ActorKind: store.ActorAccount, Role: "admin", Source: "192.0.2.1", Action: "account.login"},
	}
	var seqs []int64
	for _, e := range entries {
		got, err := s.AppendAudit(ctx(t), e)
		if err != nil {
			t.Fatal(err)
		}
		if len(seqs) > 0 && got.Seq <= seqs[len(seqs)-1] {
			t.Fatalf("seq %d after %d: want increasing", got.Seq, seqs[len(seqs)-1])
		}
		seqs = append(seqs, got.Seq)
	}
	all, err := s.AuditLog(ctx(t), store.AuditFilter{})
	if err != nil || len(all) != len(entries) {
		t.Fatalf("AuditLog = %d entries, %v", len(all), err)
	}
	for i, e := range all {
		want := entries[len(entries)-1-i]
		want.Seq, want.At = seqs[len(entries)-1-i], utc(want.At)
		if e != want {
			t.Errorf("entry %d = %+v, want %+v (newest first)", i, e, want)
		}
	}
	seqOf := func(es []store.AuditEntry) []int64 {
		out := []int64{}
		for _, e := range es {
			out = append(out, e.Seq)
		}
		return out
	}
	tests := []struct {
		name string
		f    store.AuditFilter
		want []int64
	}{
		{"since", store.AuditFilter{Since: at(3 * time.Minute)}, []int64{seqs[4], seqs[3]}},
		{"actor", store.AuditFilter{Actor: "ada"}, []int64{seqs[4], seqs[3], seqs[0]}},
		{"action prefix is literal", store.AuditFilter{ActionPrefix: "config."}, []int64{seqs[1], seqs[0]}},
		{"action prefix with a wildcard character", store.AuditFilter{ActionPrefix: "config_"}, []int64{}},
		{"limit keeps the newest", store.AuditFilter{Limit: 2}, []int64{seqs[4], seqs[3]}},
		{"before pages back", store.AuditFilter{Before: seqs[3], Limit: 2}, []int64{seqs[2], seqs[1]}},
		{"filters combine", store.AuditFilter{Actor: "ada", ActionPrefix: "config", Before: seqs[4]}, []int64{seqs[3], seqs[0]}},
		{"nothing matches", store.AuditFilter{Actor: "nobody"}, []int64{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.AuditLog(ctx(t), tt.f)
			if err != nil || !slices.Equal(seqOf(got), tt.want) {
				t.Errorf("AuditLog(%+v) = %v, %v; want %v", tt.f, seqOf(got), err, tt.want)
			}
		})
	}
}
