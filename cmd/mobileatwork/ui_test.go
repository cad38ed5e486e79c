package main

import (
	"strings"
	"testing"
)

// The UI agent's command refuses to run outside the UI LaunchAgent, and a
// bad flag, on one line.
func TestUIRefusesOnOneLine(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"ui"}, "error: ui is run by the UI LaunchAgent with --session; to see the progress use `mobileatwork onboarding ui`"},
		{[]string{"ui", "extra", "--session"}, `error: mobileatwork ui takes no arguments, got ["extra"]`},
		{[]string{"ui", "--session", "--wait", "soon"}, `error: invalid argument "soon" for "--wait" flag`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, out, errOut := runMain(t, tc.args...)
			if code != 1 || out != "" || !strings.HasPrefix(errOut, tc.want) || strings.Count(errOut, "\n") != 1 {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 1 and one line starting %q", code, out, errOut, tc.want)
			}
		})
	}
}
