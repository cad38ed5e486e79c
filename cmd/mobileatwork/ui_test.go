package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/mobileatwork/mobileatwork/desktop"
	"github.com/mobileatwork/mobileatwork/internal/cli"
	"github.com/mobileatwork/mobileatwork/onboarding"
	"github.com/mobileatwork/mobileatwork/protocol"
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

// The kiosk's outcome, through the twin kiosk and ShowUntilDone as the UI
// agent runs them, becomes the exit status launchd reads: 0 when onboarding
// ended, exitPageGone when the page went away before, 1 for other failures.
func TestKioskOutcomeExitStatus(t *testing.T) {
	final := protocol.OnboardingReport{State: protocol.OnboardingDone}
	running := protocol.OnboardingReport{State: protocol.OnboardingRunning}
	for _, tc := range []struct {
		name     string
		status   func(context.Context) (protocol.OnboardingReport, error)
		kiosk    desktop.Kiosk
		wantCode int
		wantErr  string
	}{
		{"onboarding ended", func(context.Context) (protocol.OnboardingReport, error) { return final, nil }, desktop.BrowserKiosk{}, 0, ""},
		{"page gone", func(context.Context) (protocol.OnboardingReport, error) {
			return running, errors.New("connection refused")
		}, desktop.BrowserKiosk{}, exitPageGone, "error: the onboarding progress page stopped answering: connection refused\n"},
		{"no window server", func(context.Context) (protocol.OnboardingReport, error) { return running, nil }, failingKiosk{errors.New("no window server")}, 1, "error: no window server\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := &cobra.Command{Use: "ui", RunE: func(cmd *cobra.Command, _ []string) error {
				return kioskOutcome(onboarding.ShowUntilDone(cmd.Context(), tc.kiosk, "http://127.0.0.1:5000/?s=p", tc.status,
					onboarding.ShowOptions{Every: time.Millisecond}))
			}}
			var out, errb bytes.Buffer
			root.SetOut(&out)
			root.SetErr(&errb)
			root.SetArgs(nil)
			if code := cli.Run(root); code != tc.wantCode || errb.String() != tc.wantErr {
				t.Errorf("exit %d, stderr %q; want exit %d, stderr %q", code, errb.String(), tc.wantCode, tc.wantErr)
			}
		})
	}
}

type failingKiosk struct{ err error }

func (k failingKiosk) Show(context.Context, string) error { return k.err }
