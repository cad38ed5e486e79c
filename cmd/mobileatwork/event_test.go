package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mobileatwork/mobileatwork/agent"
)

// A malformed name, a missing one or a user who is not root: one error
// line, a non-zero exit, and nothing recorded.
func TestEventRefusesBadInput(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state")
	tests := []struct {
		name    string
		args    []string
		notRoot bool
		want    string
	}{
		{name: "space", args: []string{"event", "a b"}, want: `error: event name "a b": only letters, digits, '.', '_' and '-' are allowed`},
		{name: "shell", args: []string{"event", "x;rm -rf /"}, want: "only letters, digits"},
		{name: "too long", args: []string{"event", strings.Repeat("e", 65)}, want: "want 1 to 64 characters"},
		{name: "empty", args: []string{"event", ""}, want: "want 1 to 64 characters"},
		{name: "no name", args: []string{"event"}, want: "takes 1 argument(s), got 0"},
		{name: "two names", args: []string{"event", "a", "b"}, want: "takes 1 argument(s), got 2"},
		{name: "not enrolled", args: []string{"event", "vpn-up"}, want: "not enrolled"},
		{name: "not root", args: []string{"event", "vpn-up"}, notRoot: true, want: "needs root: run it with sudo"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append(tt.args, "--state-dir", state)
			if tt.notRoot {
				geteuid = func() int { return 501 }
				t.Cleanup(func() { geteuid = os.Geteuid })
				args = tt.args // the system's state directory
			}
			code, out, errOut := runMain(t, args...)
			lines := strings.Split(strings.TrimRight(errOut, "\n"), "\n")
			if code != 1 || out != "" || len(lines) != 1 || !strings.HasPrefix(lines[0], "error: ") || !strings.Contains(lines[0], tt.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 1 and one error line with %q", code, out, errOut, tt.want)
			}
			if _, err := os.Stat(state); !os.IsNotExist(err) {
				t.Errorf("a refused event left %s: %v", state, err)
			}
		})
	}
	if agent.DefaultStateDir == state {
		t.Fatal("the test state directory is the system's")
	}
}
