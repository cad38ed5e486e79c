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
	"github.com/mobileatwork/mobileatwork/internal/cli"
	"github.com/mobileatwork/mobileatwork/internal/localweb"
	"github.com/mobileatwork/mobileatwork/onboarding"
	"github.com/mobileatwork/mobileatwork/packaging/launchd"
	"github.com/mobileatwork/mobileatwork/protocol"
)

// uiCmd is what the UI LaunchAgent runs in each GUI login session. The
// daemon runs as root and cannot show a window; it serves its pages on
// loopback and offers their addresses to the console user (see
// onboarding.WriteUISession). This command, running as that user in that
// session, waits briefly for the offer and shows the kiosk until onboarding
// ends, then Apps@Work in a regular window once per enrollment. It exits 0
// when there is nothing to show (no offer, an offer of an earlier boot, a
// page that no longer answers, Apps@Work already opened), so launchd does
// not restart it; the daemon kickstarts it whenever its offer changes. A
// page lost while the kiosk shows it (the daemon restarted) exits non-zero:
// launchd restarts the command, which picks up the daemon's new offer.
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
			wait := v.GetDuration("wait")
			u := loginUI{
				offer:   func(ctx context.Context) (onboarding.UISession, error) { return waitUISession(ctx, wait) },
				current: currentUISession,
				status: func(ctx context.Context, pageURL string) (protocol.OnboardingReport, error) {
					c, err := onboarding.NewPageClient(pageURL)
					if err != nil {
						return protocol.OnboardingReport{}, err
					}
					return c.Status(ctx)
				},
				kiosk:  showKiosk,
				probe:  localweb.Probe,
				window: onboarding.DefaultPageWindow("Apps@Work"),
				marks:  appcatalog.ShownMarks{Dir: dir},
				log:    cmd.ErrOrStderr(),
			}
			return u.run(ctx)
		},
	}
	cmd.Flags().Bool("session", false, "run in the console user's GUI session (required)")
	cmd.Flags().Duration("wait", 15*time.Second, "how long to wait for the daemon's offer")
	return cmd
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

// shownMarks remember that Apps@Work was opened for an enrollment;
// appcatalog.ShownMarks is the real one.
type shownMarks interface {
	Shown(deviceID string) (bool, error)
	Mark(deviceID string) error
	Unmark(deviceID string) error
}

// loginUI decides what the user sees at login or when the daemon's offer
// changes:
//
//	offer                                   shows
//	none, of an earlier boot                nothing
//	onboarding page running                 kiosk until onboarding ends, then as below
//	Apps@Work not yet opened for the device Apps@Work in a window, once
//	Apps@Work already opened                nothing
//	Apps@Work page not answering            nothing
//
// The window never comes from the root daemon: it is this process, in the
// user's GUI login.
type loginUI struct {
	offer   func(context.Context) (onboarding.UISession, error) // waits for the daemon's offer
	current func() (onboarding.UISession, error)                // reads it once
	status  func(ctx context.Context, pageURL string) (protocol.OnboardingReport, error)
	kiosk   func(ctx context.Context, pageURL string) error // returns when onboarding ended
	probe   func(ctx context.Context, pageURL string) error
	window  onboarding.Window
	marks   shownMarks
	log     io.Writer
}

func (u loginUI) run(ctx context.Context) error {
	s, err := u.offer(ctx)
	switch {
	case errors.Is(err, onboarding.ErrNoSession), errors.Is(err, onboarding.ErrStaleSession), errors.Is(err, context.Canceled):
		fmt.Fprintf(u.log, "nothing to show: %v\n", err)
		return nil
	case err != nil:
		return err
	}
	if s.Onboarding() {
		// Ask the live page before showing anything: an offer can outlive
		// its onboarding (a daemon killed before it withdrew it).
		r, err := u.status(ctx, s.URL)
		switch {
		case err != nil:
			fmt.Fprintf(u.log, "onboarding page offered but not answering: %v\n", err)
		case r.Final():
			fmt.Fprintf(u.log, "onboarding already %s\n", r.State)
		default:
			if err := u.kiosk(ctx, s.URL); err != nil {
				return err
			}
			// Onboarding ended: Apps@Work comes next, from the daemon's
			// offer as it stands now.
			if s, err = u.current(); err != nil {
				fmt.Fprintf(u.log, "nothing more to show: %v\n", err)
				return nil
			}
		}
	}
	return u.catalog(ctx, s)
}

// catalog opens Apps@Work once per enrollment.
func (u loginUI) catalog(ctx context.Context, s onboarding.UISession) error {
	if s.CatalogURL == "" {
		return nil
	}
	shown, err := u.marks.Shown(s.DeviceID)
	switch {
	case err != nil:
		// Without the marker the window would open at every login.
		fmt.Fprintf(u.log, "Apps@Work not opened: %v\n", err)
		return nil
	case shown:
		return nil
	}
	if err := u.probe(ctx, s.CatalogURL); err != nil {
		fmt.Fprintf(u.log, "Apps@Work offered but not answering: %v\n", err)
		return nil
	}
	// Marked before it shows: on macOS the window's event loop ends the
	// process when the user closes it.
	if err := u.marks.Mark(s.DeviceID); err != nil {
		fmt.Fprintf(u.log, "Apps@Work not opened: %v\n", err)
		return nil
	}
	if err := u.window.Show(ctx, s.CatalogURL); err != nil {
		return errors.Join(fmt.Errorf("open Apps@Work: %w", err), u.marks.Unmark(s.DeviceID))
	}
	return nil
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
