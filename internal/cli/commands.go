package cli

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
)

// Run prepares root (see Prepare) and executes it. On failure it writes
// ErrorLine(err) to root's stderr and returns 1, or the code of an
// *ExitStatus in err's chain when above 1 (a failure never exits 0);
// otherwise 0.
func Run(root *cobra.Command) int {
	Prepare(root)
	if _, err := root.ExecuteC(); err != nil {
		fmt.Fprintln(root.ErrOrStderr(), ErrorLine(err))
		if es, ok := errors.AsType[*ExitStatus](err); ok && es.Code > 1 {
			return es.Code
		}
		return 1
	}
	return 0
}

// ExitStatus is an error that asks Run for an exit status other than 1,
// for a caller that tells failures apart by it (launchd, a script).
type ExitStatus struct {
	Code int
	Err  error
}

func (e *ExitStatus) Error() string { return e.Err.Error() }
func (e *ExitStatus) Unwrap() error { return e.Err }

// Annotations that Prepare leaves on commands, so that preparing twice
// changes nothing.
const (
	preparedKey = "cli.prepared"
	groupKey    = "cli.group"
)

// Prepare makes the command tree under root follow the one-line error
// convention: errors and usage are left to the caller (Run prints them),
// and every command that only groups sub-commands fails on an unknown or
// missing sub-command instead of printing its help and exiting 0, which
// hides typos from scripts. Help (--help, -h, the help command) is unchanged.
func Prepare(root *cobra.Command) {
	if root.Annotations[preparedKey] != "" {
		return
	}
	annotate(root, preparedKey)
	root.SilenceErrors, root.SilenceUsage = true, true
	// Execute adds these only when it runs; the completion command is
	// itself a group.
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	walk(root, func(c *cobra.Command) {
		if !c.HasSubCommands() || c.Runnable() {
			return
		}
		annotate(c, groupKey)
		c.Args = groupArgs
		// Cobra validates arguments only of runnable commands. Args refuses
		// every call, so this never runs.
		c.RunE = func(*cobra.Command, []string) error { return nil }
	})
	// A group must not read as runnable in its help ("cmd [flags]" above
	// "cmd [command]"): help and usage see it without its RunE.
	help, usage := root.HelpFunc(), root.UsageFunc()
	root.SetHelpFunc(func(c *cobra.Command, args []string) {
		defer asGroup(c)()
		help(c, args)
	})
	root.SetUsageFunc(func(c *cobra.Command) error {
		defer asGroup(c)()
		return usage(c)
	})
}

func annotate(c *cobra.Command, key string) {
	if c.Annotations == nil {
		c.Annotations = map[string]string{}
	}
	c.Annotations[key] = "true"
}

func walk(c *cobra.Command, fn func(*cobra.Command)) {
	fn(c)
	for _, sub := range c.Commands() {
		walk(sub, fn)
	}
}

// asGroup hides the RunE of a group Prepare made runnable and returns
// what puts it back.
func asGroup(c *cobra.Command) func() {
	if c.Annotations[groupKey] == "" {
		return func() {}
	}
	run := c.RunE
	c.RunE = nil
	return func() { c.RunE = run }
}

// groupArgs is the Args of a group: any argument left once sub-commands
// are resolved is an unknown sub-command, and none at all is a mistake too.
func groupArgs(c *cobra.Command, args []string) error {
	path := c.CommandPath()
	if len(args) == 0 {
		var names []string
		for _, sub := range c.Commands() {
			if sub.IsAvailableCommand() {
				names = append(names, sub.Name())
			}
		}
		return fmt.Errorf("%q needs a sub-command: %s; see \"%s --help\"", path, strings.Join(names, ", "), path)
	}
	return fmt.Errorf("unknown command %q for %q%s", args[0], path, didYouMean(suggestions(c, args[0])))
}

// suggestions are the sub-commands of c close to typed, as cobra finds them
// for an unknown command at the root.
func suggestions(c *cobra.Command, typed string) []string {
	if c.DisableSuggestions || c.Root().DisableSuggestions {
		return nil
	}
	if c.SuggestionsMinimumDistance <= 0 {
		c.SuggestionsMinimumDistance = 2 // cobra's default
	}
	var out []string
	for _, s := range c.SuggestionsFor(typed) {
		if !slices.Contains(out, s) { // a name both close and in SuggestFor
			out = append(out, s)
		}
	}
	return out
}

// didYouMean is `; did you mean "a" or "b"?`, or "" without names.
func didYouMean(names []string) string {
	if len(names) == 0 {
		return ""
	}
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return "; did you mean " + strings.Join(q, " or ") + "?"
}

// cobraSuggestions starts the block cobra appends to "unknown command"
// errors it makes itself (a runnable root, cobra.NoArgs with suggestions).
const cobraSuggestions = "\n\nDid you mean this?\n"

// ErrorLine is err as the one stderr line of a failed command:
// "error: " and the message, its lines joined by "; " without empty ones.
// Cobra's "Did you mean this?" block reads as Prepare's suggestions.
func ErrorLine(err error) string {
	msg := err.Error()
	if head, tail, ok := strings.Cut(msg, cobraSuggestions); ok {
		msg = head + didYouMean(strings.Fields(tail))
	}
	var parts []string
	for _, l := range strings.Split(msg, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			parts = append(parts, l)
		}
	}
	return "error: " + strings.Join(parts, "; ")
}

// Execute runs root with args in process, prepared as Main prepares it,
// and returns what it wrote to stdout and stderr: how tests run a program.
func Execute(root *cobra.Command, args ...string) (stdout, stderr string, err error) {
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetArgs(args)
	Prepare(root)
	err = root.Execute()
	return out.String(), errb.String(), err
}
