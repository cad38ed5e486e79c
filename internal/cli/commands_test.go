package cli

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// tree is a small program: groups (one nested), a leaf, a hidden leaf.
func tree() *cobra.Command {
	leaf := func(use string) *cobra.Command {
		return &cobra.Command{Use: use, Short: use + " it", Args: NoArgs, RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintln(cmd.OutOrStdout(), "ran", cmd.CommandPath())
			return nil
		}}
	}
	root := &cobra.Command{Use: "tool", Short: "A tool"}
	script := &cobra.Command{Use: "script", Short: "Scripts"}
	script.AddCommand(leaf("add"), leaf("show"), leaf("list"))
	svc := &cobra.Command{Use: "svc", Short: "Services"}
	svc.AddCommand(leaf("start"), leaf("stop"))
	remote := &cobra.Command{Use: "remote", Short: "Remotes"}
	origin := &cobra.Command{Use: "origin", Short: "The origin"}
	origin.AddCommand(leaf("prune"))
	remote.AddCommand(origin)
	hidden := leaf("secret")
	hidden.Hidden = true
	status := leaf("status")
	status.Flags().Bool("json", false, "print JSON")
	root.AddCommand(script, svc, remote, status, hidden)
	return root
}

// runnableRoot has a Run of its own: cobra, not Prepare, refuses an
// unknown command at its root.
func runnableRoot() *cobra.Command {
	root := &cobra.Command{Use: "tool", Run: func(*cobra.Command, []string) {}}
	root.AddCommand(&cobra.Command{Use: "checkin", Run: func(*cobra.Command, []string) {}})
	return root
}

func run(root *cobra.Command, args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetArgs(args)
	code = Run(root)
	return code, out.String(), errb.String()
}

func TestGroupsRefuseUnknownAndMissingSubCommands(t *testing.T) {
	tests := []struct {
		name string
		root func() *cobra.Command
		args []string
		want string // the one stderr line
	}{
		{"typo", tree, []string{"script", "shw"}, `error: unknown command "shw" for "tool script"; did you mean "show"?`},
		{"unknown with argument", tree, []string{"script", "delete", "X"}, `error: unknown command "delete" for "tool script"`},
		{"several suggestions", tree, []string{"svc", "sta"}, `error: unknown command "sta" for "tool svc"; did you mean "start" or "stop"?`},
		{"nested group", tree, []string{"remote", "origin", "prnue"}, `error: unknown command "prnue" for "tool remote origin"; did you mean "prune"?`},
		{"unknown after flags", tree, []string{"script", "--help=false", "frob"}, `error: unknown command "frob" for "tool script"`},
		{"root", tree, []string{"frob"}, `error: unknown command "frob" for "tool"`},
		{"root typo", tree, []string{"stats"}, `error: unknown command "stats" for "tool"; did you mean "status"?`},
		{"hidden is not suggested", tree, []string{"secrt"}, `error: unknown command "secrt" for "tool"`},
		{"no sub-command", tree, []string{"script"}, `error: "tool script" needs a sub-command: add, list, show; see "tool script --help"`},
		{"no sub-command, nested", tree, []string{"remote"}, `error: "tool remote" needs a sub-command: origin; see "tool remote --help"`},
		{"no sub-command at the root", tree, nil, `error: "tool" needs a sub-command: completion, remote, script, status, svc; see "tool --help"`},
		{"completion is a group too", tree, []string{"completion"}, `error: "tool completion" needs a sub-command: bash, fish, powershell, zsh; see "tool completion --help"`},
		{"unknown flag on a group", tree, []string{"script", "--frob"}, `error: unknown flag: --frob`},
		{"unknown flag on a leaf", tree, []string{"status", "--frob"}, `error: unknown flag: --frob`},
		{"leaf arguments", tree, []string{"status", "x"}, `error: tool status takes no arguments, got ["x"]; see ` + "`tool status --help`"},
		{"cobra's own root check", runnableRoot, []string{"chekin"}, `error: unknown command "chekin" for "tool"; did you mean "checkin"?`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := run(tc.root(), tc.args...)
			if code != 1 || errOut != tc.want+"\n" || out != "" {
				t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit 1, no stdout, stderr %q", tc.args, code, out, errOut, tc.want)
			}
		})
	}
}

func TestHelpStillWorks(t *testing.T) {
	tests := []struct {
		args []string
		want []string // in stdout
		not  string   // not in stdout
	}{
		{[]string{"--help"}, []string{"A tool", "tool [command]", "script "}, "tool [flags]"},
		{[]string{"-h"}, []string{"tool [command]"}, "tool [flags]"},
		{[]string{"help"}, []string{"tool [command]"}, "tool [flags]"},
		{[]string{"script", "--help"}, []string{"Scripts", "tool script [command]", "show "}, "tool script [flags]"},
		{[]string{"script", "-h"}, []string{"tool script [command]"}, "tool script [flags]"},
		{[]string{"help", "script"}, []string{"tool script [command]"}, "tool script [flags]"},
		{[]string{"script", "shw", "--help"}, []string{"tool script [command]"}, "tool script [flags]"},
		{[]string{"remote", "origin", "-h"}, []string{"tool remote origin [command]"}, "origin [flags]"},
		{[]string{"status", "--help"}, []string{"tool status [flags]"}, "[command]"},
		{[]string{"completion", "--help"}, []string{"tool completion [command]"}, "completion [flags]"},
		{[]string{"script", "show"}, []string{"ran tool script show"}, "Usage"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			root := tree()
			Prepare(root) // twice: Run prepares again, which must change nothing
			code, out, errOut := run(root, tc.args...)
			if code != 0 || errOut != "" {
				t.Fatalf("exit %d, stderr %q; want 0 and nothing", code, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			if strings.Contains(out, tc.not) {
				t.Errorf("stdout has %q:\n%s", tc.not, out)
			}
		})
	}
}

func TestErrorLine(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{errors.New("plain"), "error: plain"},
		{errors.New("first\nsecond"), "error: first; second"},
		{errors.New("a\n\n  b  \n\n"), "error: a; b"},
		{errors.Join(errors.New("one"), errors.New("two")), "error: one; two"},
		{errors.New("unknown command \"chekin\" for \"x\"\n\nDid you mean this?\n\tcheckin\n"), `error: unknown command "chekin" for "x"; did you mean "checkin"?`},
		{errors.New("unknown command \"st\" for \"x\"\n\nDid you mean this?\n\tstart\n\tstop\n"), `error: unknown command "st" for "x"; did you mean "start" or "stop"?`},
	}
	for _, tc := range tests {
		if got := ErrorLine(tc.err); got != tc.want {
			t.Errorf("ErrorLine(%q) = %q, want %q", tc.err.Error(), got, tc.want)
		}
	}
}

// An *ExitStatus anywhere in the error's chain picks the exit status; it
// can never turn a failure into success.
func TestRunExitStatus(t *testing.T) {
	gone := errors.New("page gone")
	for _, tc := range []struct {
		name     string
		err      error
		wantCode int
		wantErr  string
	}{
		{"success", nil, 0, ""},
		{"plain error", gone, 1, "error: page gone\n"},
		{"exit status", &ExitStatus{Code: 75, Err: gone}, 75, "error: page gone\n"},
		{"wrapped exit status", fmt.Errorf("kiosk: %w", &ExitStatus{Code: 75, Err: gone}), 75, "error: kiosk: page gone\n"},
		{"code 0 is still a failure", &ExitStatus{Code: 0, Err: gone}, 1, "error: page gone\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := &cobra.Command{Use: "tool", Args: NoArgs, RunE: func(*cobra.Command, []string) error { return tc.err }}
			code, out, errOut := run(root)
			if code != tc.wantCode || out != "" || errOut != tc.wantErr {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d, stderr %q", code, out, errOut, tc.wantCode, tc.wantErr)
			}
		})
	}
}
