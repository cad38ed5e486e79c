package accounts

import (
	"strings"
	"testing"
	"time"
)

func TestRolesCan(t *testing.T) {
	tests := []struct {
		role                   Role
		read, operate, doAdmin bool
	}{
		{RoleAdmin, true, true, true},
		{RoleOperator, true, true, false},
		{RoleAuditor, true, false, false},
		{Role("root"), false, false, false},
		{Role(""), false, false, false},
	}
	for _, tt := range tests {
		for c, want := range map[Class]bool{ClassRead: tt.read, ClassOperate: tt.operate, ClassAdmin: tt.doAdmin} {
			if got := tt.role.Can(c); got != want {
				t.Errorf("%q.Can(%d) = %v, want %v", tt.role, c, got, want)
			}
		}
	}
}

func TestParseRole(t *testing.T) {
	tests := []struct {
		in      string
		want    Role
		wantErr bool
	}{
		{"admin", RoleAdmin, false},
		{" Operator ", RoleOperator, false},
		{"AUDITOR", RoleAuditor, false},
		{"root", "", true},
		{"", "", true},
	}
	for _, tt := range tests {
		got, err := ParseRole(tt.in)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("ParseRole(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestCheckName(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{"ada", "ada", false},
		{" Ada.Lovelace@example.com ", "ada.lovelace@example.com", false},
		{"ci-bot_1", "ci-bot_1", false},
		{"", "", true},
		{"two words", "", true},
		{"semi;colon", "", true},
		{strings.Repeat("a", 65), "", true},
	}
	for _, tt := range tests {
		got, err := CheckName("account", tt.in)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("CheckName(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestPasswordHashing(t *testing.T) {
	old := *Params
	Params.Memory, Params.Iterations = 64, 1
	t.Cleanup(func() { *Params = old })
	h, err := HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$") || strings.Contains(h, "correct horse") {
		t.Fatalf("hash %q is not an encoded argon2id hash", h)
	}
	h2, _ := HashPassword("correct horse battery")
	if h == h2 {
		t.Error("two hashes of one password are equal: no salt")
	}
	for _, tt := range []struct {
		p, hash string
		want    bool
	}{
		{"correct horse battery", h, true},
		{"correct horse battery", h2, true},
		{"correct horse batterx", h, false},
		{"", h, false},
		{"correct horse battery", "not a hash", false},
	} {
		if got := CheckPassword(tt.p, tt.hash); got != tt.want {
			t.Errorf("CheckPassword(%q, %.20s) = %v, want %v", tt.p, tt.hash, got, tt.want)
		}
	}
}

func TestCheckPasswordRules(t *testing.T) {
	for _, tt := range []struct {
		p       string
		wantErr string
	}{
		{"", "empty"},
		{"short", "shorter"},
		{"\xff\xfe" + strings.Repeat("a", 12), "UTF-8"},
		{strings.Repeat("a", MaxPasswordLen+1), "longer"},
		{strings.Repeat("é", 12), ""},
		{GeneratePassword(), ""},
	} {
		err := CheckPasswordRules(tt.p)
		if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("CheckPasswordRules(%.20q) = %v, want %q", tt.p, err, tt.wantErr)
		}
	}
}

func TestGeneratePassword(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		p := GeneratePassword()
		if len(p) != GeneratedPasswordLen || strings.ContainsAny(p, "0Oo1lI") {
			t.Fatalf("GeneratePassword() = %q: want %d unambiguous characters", p, GeneratedPasswordLen)
		}
		for _, r := range p {
			if !strings.ContainsRune(passwordAlphabet, r) {
				t.Fatalf("GeneratePassword() = %q holds %q", p, r)
			}
		}
		if seen[p] {
			t.Fatalf("GeneratePassword() repeated %q", p)
		}
		seen[p] = true
	}
}

func TestNewSecret(t *testing.T) {
	s1, h1 := NewSecret(TokenPrefix)
	s2, h2 := NewSecret(TokenPrefix)
	if !strings.HasPrefix(s1, TokenPrefix) || len(s1) != len(TokenPrefix)+43 {
		t.Fatalf("secret %q: want %s and 43 base64url characters", s1, TokenPrefix)
	}
	if s1 == s2 || string(h1) == string(h2) {
		t.Fatal("two secrets are equal")
	}
	if len(h1) != 32 || string(HashSecret(s1)) != string(h1) {
		t.Fatalf("hash of %q is not its SHA-256", s1)
	}
}

func TestLockout(t *testing.T) {
	t0 := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	// fail at each offset and report whether that failure locked.
	run := func(offsets ...time.Duration) (Lockout, []bool) {
		var l Lockout
		var locks []bool
		for _, d := range offsets {
			var locked bool
			l, locked = l.Fail(t0.Add(d))
			locks = append(locks, locked)
		}
		return l, locks
	}
	min := time.Minute
	t.Run("five failures within the window lock", func(t *testing.T) {
		l, locks := run(0, min, 2*min, 3*min, 14*min)
		if !locks[4] || locks[3] {
			t.Fatalf("locks = %v, want only the fifth", locks)
		}
		if !l.Locked(t0.Add(14*min)) || !l.Locked(t0.Add(29*min-time.Nanosecond)) || l.Locked(t0.Add(29*min)) {
			t.Fatalf("locked until %s, want 15 minutes after the fifth failure", l.LockedUntil)
		}
	})
	t.Run("failures spread past the window do not lock", func(t *testing.T) {
		l, locks := run(0, min, 2*min, 3*min, 15*min)
		for _, lk := range locks {
			if lk {
				t.Fatalf("locks = %v, want none: the fifth fell after the window", locks)
			}
		}
		if l.Failures != 1 || !l.FirstFailureAt.Equal(t0.Add(15*min)) {
			t.Fatalf("after the window: %+v, want a new window with one failure", l)
		}
	})
	t.Run("a success forgets the failures", func(t *testing.T) {
		l, _ := run(0, min, 2*min, 3*min)
		l = l.Succeed()
		l, locked := l.Fail(t0.Add(4 * min))
		if locked || l.Failures != 1 {
			t.Fatalf("after a success: %+v locked=%v, want one failure", l, locked)
		}
	})
	t.Run("after the lock a new window starts", func(t *testing.T) {
		l, _ := run(0, min, 2*min, 3*min, 4*min)
		l, locked := l.Fail(t0.Add(20 * min))
		if locked || l.Failures != 1 || l.Locked(t0.Add(20*min)) {
			t.Fatalf("after the lock: %+v locked=%v", l, locked)
		}
	})
}

func TestSessionExpiry(t *testing.T) {
	t0 := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		lastSeen, want time.Duration
	}{
		{0, IdleTimeout},
		{time.Hour, time.Hour + IdleTimeout},
		{AbsoluteTimeout - time.Minute, AbsoluteTimeout},
	} {
		if got := SessionExpiry(t0, t0.Add(tt.lastSeen)); !got.Equal(t0.Add(tt.want)) {
			t.Errorf("SessionExpiry(seen +%s) = +%s, want +%s", tt.lastSeen, got.Sub(t0), tt.want)
		}
	}
}
