package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// `register` needs its sub-command, and `register ui` serves no page for a
// state directory that holds an identity, readable or not: one error line
// each, and nothing written.
func TestRegisterRefuses(t *testing.T) {
	broken := filepath.Join(t.TempDir(), "state")
	if err := os.MkdirAll(broken, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(broken, "identity.json"), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no sub-command", []string{"register"}, `"mobileatwork register" needs a sub-command: ui`},
		{"unknown sub-command", []string{"register", "frob"}, `unknown command "frob" for "mobileatwork register"`},
		{"unreadable identity", []string{"register", "ui", "--state-dir", broken}, "read identity:"},
		{"listen beyond loopback", []string{"register", "ui", "--state-dir", filepath.Join(t.TempDir(), "fresh"), "--listen", "0.0.0.0:0"}, "loopback"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runMain(t, tt.args...)
			lines := strings.Split(strings.TrimRight(errOut, "\n"), "\n")
			if code != 1 || out != "" || len(lines) != 1 || !strings.HasPrefix(lines[0], "error: ") || !strings.Contains(lines[0], tt.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 1 and one error line with %q", code, out, errOut, tt.want)
			}
		})
	}
	if b, err := os.ReadFile(filepath.Join(broken, "identity.json")); err != nil || string(b) != "{not json" {
		t.Errorf("the identity was changed: %q, %v", b, err)
	}
}
