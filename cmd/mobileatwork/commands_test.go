package main

import (
	"strings"
	"testing"
)

func TestUnknownCommandsFailOnOneLine(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"frob"}, `error: unknown command "frob" for "mobileatwork"`},
		{[]string{"chekin"}, `error: unknown command "chekin" for "mobileatwork"; did you mean "checkin"?`},
		{[]string{"service", "frob"}, `error: unknown service action "frob": want one of install, uninstall, start, stop, restart, status`},
		{[]string{"schedule", "frob"}, `error: unknown command "frob" for "mobileatwork schedule"`},
		{[]string{"schedule", "preveiw"}, `error: unknown command "preveiw" for "mobileatwork schedule"; did you mean "preview"?`},
		{[]string{"onboarding", "stat"}, `error: unknown command "stat" for "mobileatwork onboarding"; did you mean "status"?`},
		{[]string{"catalog"}, `error: "mobileatwork catalog" needs a sub-command: list, ui; see "mobileatwork catalog --help"`},
		{[]string{"status", "--frob"}, `error: unknown flag: --frob`},
		{[]string{"run", "--interval", "1ns"}, `error: --interval 1ns is too short: give at least 10s, or 0 for the tenant's interval`},
		{[]string{"run", "--interval", "-5m"}, `error: --interval -5m0s is too short: give at least 10s, or 0 for the tenant's interval`},
		{[]string{"run", "--interval", "soon"}, `error: --interval "soon" is not a duration: give e.g. 30s or 5m, or 0 for the tenant's interval`},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, out, errOut := runMain(t, tc.args...)
			if code != 1 || errOut != tc.want+"\n" || out != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 1 and stderr %q", code, out, errOut, tc.want)
			}
		})
	}
}

func TestHelpExitsZero(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}, {"schedule", "--help"}, {"onboarding", "-h"}, {"help", "catalog"}, {"service", "--help"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, out, errOut := runMain(t, args...)
			if code != 0 || errOut != "" || !strings.Contains(out, "Usage:") {
				t.Errorf("exit %d, stderr %q, stdout %q; want 0 and help", code, errOut, out)
			}
		})
	}
}
