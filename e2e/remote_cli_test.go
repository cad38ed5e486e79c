package e2e

import (
	"github.com/mobileatwork/mobileatwork/server/accounts"
	"path/filepath"
	"strings"
	"testing"
)

// The enrollment token commands print the same documents and refuse with
// the same line in both modes.
func TestServerCLITokensBothWays(t *testing.T) {
	t.Parallel()
	for _, mode := range cliModes {
		t.Run(string(mode), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			sv := e.serverCLI(mode)
			tok, stderr, code := sv("token", "create", "--user", "ada@example.com", "--uses", "3")
			if code != 0 || strings.Count(tok, "\n") != 1 {
				t.Fatalf("token create: exit %d, %q %q", code, tok, stderr)
			}
			out, _, code := sv("tokens")
			if code != 0 || !strings.Contains(out, "ada@example.com") || !strings.Contains(out, "active") {
				t.Fatalf("tokens: exit %d\n%s", code, out)
			}
			id := strings.Fields(strings.Split(out, "\n")[1])[0]
			if _, stderr, code := sv("token", "revoke", id); code != 0 || !strings.Contains(stderr, "revoked") {
				t.Fatalf("token revoke: exit %d %q", code, stderr)
			}
			out, _, _ = sv("tokens", "--json")
			if !strings.Contains(out, `"state": "revoked"`) {
				t.Errorf("tokens --json after revoke:\n%s", out)
			}
			_, stderr, code = sv("token", "create", "--uses", "0")
			oneErrorLine(t, stderr, code, "--uses must be at least 1")
			_, stderr, code = sv("token", "revoke", "tok_nope")
			oneErrorLine(t, stderr, code, `no token "tok_nope"`)
		})
	}
}

// Remote mode refuses what it cannot trust or use, in one line, before it
// sends anything.
func TestRemoteModeRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	url, token := e.adminAPI()
	ca := filepath.Join(e.data, "pki", "ca.crt")
	withToken := []string{"MAW_API_TOKEN=" + token}
	cases := []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"no trust", withToken, []string{"tokens", "--server", url}, "--server needs --ca FILE"},
		{"no token", nil, []string{"tokens", "--server", url, "--ca", ca}, "needs an API token"},
		{"a token the server never made", []string{"MAW_API_TOKEN=mawat_forged"}, []string{"tokens", "--server", url, "--ca", ca}, "the API token is unknown, expired or revoked"},
		{"another tenant's CA", withToken, []string{"tokens", "--server", url, "--ca", filepath.Join(newEnv(t).data, "pki", "ca.crt")}, "certificate"},
		{"a wrong pin", withToken, []string{"tokens", "--server", url, "--ca-pin", strings.Repeat("00", 32)}, "does not match the tenant CA"},
		{"plain http", withToken, []string{"tokens", "--server", "http://" + strings.TrimPrefix(url, "https://"), "--ca", ca}, "want https://HOST:PORT"},
	}
	auditor := []string{"MAW_API_TOKEN=" + apiToken(t, e.srv, accounts.RoleAuditor)}
	cases = append(cases, []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"an auditor adds a configuration", auditor, []string{"config", "add", "mobileatwork", "--name", "x", "--server", url, "--ca", ca}, "forbidden: the auditor role may not"},
		{"an auditor makes an API token", auditor, []string{"admin", "token", "create", "x", "--role", "admin", "--server", url, "--ca", ca}, "forbidden"},
		{"a host command", withToken, []string{"backup", "--out", filepath.Join(t.TempDir(), "b"), "--server", url, "--ca", ca}, "works on the server's host only"},
	}...)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := runEnv(t, tc.env, "mobileatwork-server", tc.args...)
			oneErrorLine(t, stderr, code, tc.want)
		})
	}
}
