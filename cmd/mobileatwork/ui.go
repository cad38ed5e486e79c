package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/mobileatwork/mobileatwork/internal/cli"
	"github.com/mobileatwork/mobileatwork/onboarding"
)

// uiCmd is what the UI LaunchAgent runs in each GUI login session. The
// daemon runs as root and cannot show a window; it serves the progress page
// on loopback and offers its address to the console user (see
// onboarding.WriteUISession). This command, running as that user in that
// session, waits briefly for the offer and shows the kiosk until onboarding
// ends. It exits 0 when there is nothing to show (no offer, an offer of an
// earlier boot, a page that no longer answers), so launchd does not restart
// it; the daemon kickstarts it when an onboarding begins. A page lost while
// the kiosk shows it (the daemon restarted) exits non-zero: launchd restarts
// the command, which picks up the daemon's new offer.
func uiCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:    "ui --session",
		Short:  "Show the onboarding kiosk in this login session (run by the UI LaunchAgent)",
		Hidden: true,
		Args:   cli.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !v.GetBool("session") {
				return fmt.Errorf("ui is run by the UI LaunchAgent with --session; to see the progress use `mobileatwork onboarding ui`")
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			s, err := waitUISession(ctx, v.GetDuration("wait"))
			switch {
			case errors.Is(err, onboarding.ErrNoSession), errors.Is(err, onboarding.ErrStaleSession), errors.Is(err, context.Canceled):
				fmt.Fprintf(cmd.ErrOrStderr(), "no onboarding to show: %v\n", err)
				return nil
			case err != nil:
				return err
			}
			// Ask the live page before showing anything: an offer can outlive
			// its onboarding (a daemon killed before it withdrew it).
			c, err := onboarding.NewPageClient(s.URL)
			if err != nil {
				return err
			}
			r, err := c.Status(ctx)
			if err != nil {
				// The daemon that offered it is gone (a one-shot check-in, a
				// crash): nothing to show. The next daemon offers a new page
				// and starts this command again.
				fmt.Fprintf(cmd.ErrOrStderr(), "onboarding page offered but not answering: %v\n", err)
				return nil
			}
			if r.Final() {
				fmt.Fprintf(cmd.ErrOrStderr(), "onboarding already %s\n", r.State)
				return nil
			}
			return showKiosk(ctx, s.URL)
		},
	}
	cmd.Flags().Bool("session", false, "run in the console user's GUI session (required)")
	cmd.Flags().Duration("wait", 15*time.Second, "how long to wait for the daemon's offer")
	return cmd
}

// waitUISession polls for the daemon's offer to this user.
func waitUISession(ctx context.Context, wait time.Duration) (onboarding.UISession, error) {
	deadline := time.Now().Add(wait)
	for {
		s, err := currentUISession()
		if err == nil || !errors.Is(err, onboarding.ErrNoSession) || !time.Now().Before(deadline) {
			return s, err
		}
		select {
		case <-ctx.Done():
			return onboarding.UISession{}, ctx.Err()
		case <-time.After(time.Second):
		}
	}
}
