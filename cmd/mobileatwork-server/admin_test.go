package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mobileatwork/mobileatwork/internal/cli"
	"github.com/mobileatwork/mobileatwork/server/accounts"
	"github.com/mobileatwork/mobileatwork/server/jsonview"
)

// run executes the command line as main does, with stdin, and returns its
// outputs and exit code.
func run(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	root := newRoot()
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetIn(strings.NewReader(stdin))
	root.SetArgs(args)
	code = cli.Run(root)
	return out.String(), errb.String(), code
}

// adminTenant is a tenant with an admin, an operator and an API token.
func adminTenant(t *testing.T) string {
	t.Helper()
	old := *accounts.Params
	accounts.Params.Memory, accounts.Params.Iterations = 64, 1
	t.Cleanup(func() { *accounts.Params = old })
	dir := filepath.Join(t.TempDir(), "tenant")
	for _, c := range []struct {
		stdin string
		args  []string
	}{
		{"", []string{"init"}},
		{"", []string{"admin", "add", "ada", "--role", "admin"}},
		{"a long enough password\n", []string{"admin", "add", "bob", "--role", "operator", "--password-stdin"}},
		{"", []string{"admin", "token", "create", "ci", "--role", "auditor"}},
	} {
		if _, errOut, code := run(t, c.stdin, append(c.args, "--data", dir)...); code != 0 {
			t.Fatalf("%v: %s", c.args, errOut)
		}
	}
	return dir
}

func TestAdminCommands(t *testing.T) {
	dir := adminTenant(t)
	out, errOut, code := run(t, "", "admin", "add", "carol", "--role", "Auditor", "--data", dir)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 1 || len(lines[0]) != accounts.GeneratedPasswordLen || !strings.Contains(errOut, "shown only this once") {
		t.Fatalf("admin add without a password: %q %q %d, want the generated password alone and a warning", out, errOut, code)
	}
	out, _, code = run(t, "", "admin", "token", "create", "deploy", "--role", "operator", "--ttl", "0", "--data", dir)
	if code != 0 || !strings.HasPrefix(out, accounts.TokenPrefix) || strings.Count(out, "\n") != 1 {
		t.Fatalf("admin token create: %q %d, want the secret alone", out, code)
	}
	out, _, _ = run(t, "", "admin", "list", "--json", "--data", dir)
	var as []jsonview.Account
	if err := json.Unmarshal([]byte(out), &as); err != nil || len(as) != 3 || as[2].Name != "carol" || as[2].Role != "auditor" || as[2].GeneratedPassword != "" {
		t.Errorf("admin list --json = %s (%v)", out, err)
	}
	if p := cli.JSONProblems([]byte(out)); p != nil {
		t.Errorf("admin list --json: %v", p)
	}
	out, _, _ = run(t, "", "admin", "token", "list", "--json", "--data", dir)
	var ts []jsonview.APIToken
	if err := json.Unmarshal([]byte(out), &ts); err != nil || len(ts) != 2 || strings.Contains(out, accounts.TokenPrefix) {
		t.Errorf("admin token list --json = %s (%v)", out, err)
	}
	for _, args := range [][]string{
		{"admin", "role", "bob", "admin"},
		{"admin", "passwd", "bob"},
		{"admin", "unlock", "bob"},
		{"admin", "remove", "carol"},
		{"admin", "token", "revoke", "deploy"},
	} {
		if _, errOut, code := run(t, "", append(args, "--data", dir)...); code != 0 {
			t.Errorf("%v: %s", args, errOut)
		}
	}
	out, _, _ = run(t, "", "audit", "--json", "--action", "account.", "--data", dir)
	var es []jsonview.AuditEntry
	if err := json.Unmarshal([]byte(out), &es); err != nil || len(es) != 7 {
		t.Fatalf("audit --json --action account. = %s (%v), want 7 entries", out, err)
	}
	if e := es[0]; e.Action != "account.remove" || e.Object != "account carol" || !strings.HasPrefix(e.Actor, "local:") ||
		e.ActorKind != "local" || e.Role != "admin" || e.Source != "cli" {
		t.Errorf("newest entry %+v, want the CLI's removal of carol", e)
	}
	if p := cli.JSONProblems([]byte(out)); p != nil {
		t.Errorf("audit --json: %v", p)
	}
	out, _, _ = run(t, "", "audit", "--limit", "2", "--data", dir)
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 3 || !strings.HasPrefix(lines[0], "AT ") ||
		!strings.Contains(lines[0], "SUMMARY") || !strings.Contains(lines[1], "apitoken.revoke") {
		t.Errorf("audit --limit 2:\n%s", out)
	}
}

// Each bad input is one error line, a failure, and no change at all.
func TestAdminRefusals(t *testing.T) {
	dir := adminTenant(t)
	state := func() string {
		var b strings.Builder
		for _, args := range [][]string{{"admin", "list", "--json"}, {"admin", "token", "list", "--json"}, {"audit", "--json", "--limit", "0"}} {
			out, errOut, code := run(t, "", append(args, "--data", dir)...)
			if code != 0 {
				t.Fatalf("%v: %s", args, errOut)
			}
			b.WriteString(out)
		}
		return b.String()
	}
	tests := []struct {
		name  string
		stdin string
		args  []string
		want  string
	}{
		{"unknown role", "", []string{"admin", "add", "eve", "--role", "root"}, `--role "root"`},
		{"no role", "", []string{"admin", "add", "eve"}, "--role is required"},
		{"duplicate name", "", []string{"admin", "add", "ADA", "--role", "auditor"}, `account "ada" exists already`},
		{"bad name", "", []string{"admin", "add", "eve smith", "--role", "auditor"}, "account name"},
		{"empty stdin password", "", []string{"admin", "add", "eve", "--role", "auditor", "--password-stdin"}, "stdin held no password"},
		{"a lone line end on stdin", "\n", []string{"admin", "add", "eve", "--role", "auditor", "--password-stdin"}, "stdin held no password"},
		{"short password", "short\n", []string{"admin", "add", "eve", "--role", "auditor", "--password-stdin"}, "shorter than 12"},
		{"no name", "", []string{"admin", "add", "--role", "auditor"}, "takes 1 argument"},
		{"remove a missing account", "", []string{"admin", "remove", "eve"}, `no account "eve"`},
		{"remove the last admin", "", []string{"admin", "remove", "ada"}, "last admin"},
		{"passwd of a missing account", "", []string{"admin", "passwd", "eve"}, `no account "eve"`},
		{"passwd with an empty stdin", "", []string{"admin", "passwd", "bob", "--password-stdin"}, "stdin held no password"},
		{"role of a missing account", "", []string{"admin", "role", "eve", "admin"}, `no account "eve"`},
		{"unknown role for role", "", []string{"admin", "role", "bob", "boss"}, `role "boss"`},
		{"demote the last admin", "", []string{"admin", "role", "ada", "operator"}, "last admin"},
		{"unlock a missing account", "", []string{"admin", "unlock", "eve"}, `no account "eve"`},
		{"token with an unknown role", "", []string{"admin", "token", "create", "cd", "--role", "god"}, `--role "god"`},
		{"token without a role", "", []string{"admin", "token", "create", "cd"}, "--role is required"},
		{"duplicate token", "", []string{"admin", "token", "create", "CI", "--role", "admin"}, `named "ci" exists already`},
		{"bad token ttl", "", []string{"admin", "token", "create", "cd", "--role", "admin", "--ttl", "soon"}, `--ttl "soon"`},
		{"negative token ttl", "", []string{"admin", "token", "create", "cd", "--role", "admin", "--ttl", "-1h"}, `--ttl "-1h"`},
		{"revoke a missing token", "", []string{"admin", "token", "revoke", "cd"}, `no API token "cd"`},
		{"audit with a bad since", "", []string{"audit", "--since", "yesterday"}, `--since "yesterday"`},
		{"audit with a negative limit", "", []string{"audit", "--limit", "-1"}, "--limit"},
		{"unknown admin sub-command", "", []string{"admin", "delete", "bob"}, `unknown command "delete"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := state()
			out, errOut, code := run(t, tt.stdin, append(tt.args, "--data", dir)...)
			if code == 0 {
				t.Fatalf("exit 0, want a failure; stdout %q", out)
			}
			if lines := strings.Split(strings.TrimSuffix(errOut, "\n"), "\n"); len(lines) != 1 || !strings.HasPrefix(lines[0], "error: ") || !strings.Contains(lines[0], tt.want) {
				t.Errorf("stderr %q, want one error: line with %q", errOut, tt.want)
			}
			if out != "" {
				t.Errorf("stdout %q, want nothing", out)
			}
			if after := state(); after != before {
				t.Errorf("the refused command changed the tenant:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
}
