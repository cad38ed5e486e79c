package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/mobileatwork/mobileatwork/agent/appcatalog"
	"github.com/mobileatwork/mobileatwork/desktop"
	"github.com/mobileatwork/mobileatwork/internal/cli"
	"github.com/mobileatwork/mobileatwork/internal/localweb"
	"github.com/mobileatwork/mobileatwork/onboarding"
	"github.com/mobileatwork/mobileatwork/packaging/launchd"
	"github.com/mobileatwork/mobileatwork/protocol"
)

// uiCmd is what the UI LaunchAgent runs in each GUI login session: it shows
// what the daemon offers this user (desktop.Login). It exits 0 when there
// is nothing (more) to show, so launchd does not restart it; the daemon
// kickstarts it whenever its offer changes. It exits exitPageGone when the
// kiosk lost its page before onboarding ended.
func uiCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:    "ui --session",
		Short:  "Show onboarding, then Apps@Work, in this login session (run by the UI LaunchAgent)",
		Hidden: true,
		Args:   cli.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !v.GetBool("session") {
				return fmt.Errorf("ui is run by the UI LaunchAgent with --session; to see the progress use `mobileatwork onboarding ui`")
			}
			logToUserFile(cmd.ErrOrStderr())
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			dir, err := appcatalog.DefaultShownDir()
			if err != nil {
				return err
			}
			inbox := desktop.UserInbox(desktop.DefaultOfferDir)
			wait := v.GetDuration("wait")
			u := desktop.Login{
				Await:   func(ctx context.Context) (desktop.Offer, error) { return inbox.Wait(ctx, wait) },
				Current: inbox.Read,
				Status: func(ctx context.Context, pageURL string) (protocol.OnboardingReport, error) {
					c, err := onboarding.NewPageClient(pageURL)
					if err != nil {
						return protocol.OnboardingReport{}, err
					}
					return c.Status(ctx)
				},
				Kiosk:  showKiosk,
				Probe:  localweb.Probe,
				Window: desktop.DefaultPageWindow("Apps@Work"),
				Marks:  appcatalog.ShownMarks{Dir: dir},
				Log:    cmd.ErrOrStderr(),

				Registered:     inbox.WaitRegistered,
				RegisterWindow: desktop.DefaultPageWindow("Register this Mac"),
			}
			return kioskOutcome(u.Run(ctx))
		},
	}
	cmd.Flags().Bool("session", false, "run in the console user's GUI session (required)")
	cmd.Flags().Duration("wait", 15*time.Second, "how long to wait for the daemon's offer")
	return cmd
}

// exitPageGone is the exit status when the kiosk's page went away while
// onboarding was not over: EX_TEMPFAIL of sysexits(3). Being non-zero, it
// makes launchd (KeepAlive SuccessfulExit false) start the UI agent again,
// which shows the daemon's new offer.
const exitPageGone = 75

// kioskOutcome gives a kiosk that lost its page the exit status
// exitPageGone; other errors exit 1, nil exits 0.
func kioskOutcome(err error) error {
	if errors.Is(err, onboarding.ErrPageGone) {
		return &cli.ExitStatus{Code: exitPageGone, Err: err}
	}
	return err
}

// logToUserFile sends the command's stdout and stderr to the user's
// ~/Library/Logs/MobileAtWork/ui.log: launchd gives the UI agent no log of
// its own (it does not expand ~ in StandardOutPath). Without a log the
// session still runs.
func logToUserFile(stderr io.Writer) {
	home, err := os.UserHomeDir()
	if err != nil {
		fmt.Fprintf(stderr, "no log file: %v\n", err)
		return
	}
	f, err := launchd.OpenUserLog(home)
	if err == nil {
		err = launchd.RedirectStdio(f)
		f.Close() // fds 1 and 2 hold it now
	}
	if err != nil {
		fmt.Fprintf(stderr, "no log file: %v\n", err)
	}
}
