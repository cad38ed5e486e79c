package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/mobileatwork/mobileatwork/desktop"
	"github.com/mobileatwork/mobileatwork/internal/cli"
	"github.com/mobileatwork/mobileatwork/internal/localweb"
	"github.com/mobileatwork/mobileatwork/internal/routines"
	"github.com/mobileatwork/mobileatwork/onboarding"
	"github.com/mobileatwork/mobileatwork/protocol"
)

func onboardingCmd() *cobra.Command {
	c := &cobra.Command{Use: "onboarding", Short: "The staged setup after enrollment: progress in the terminal or a page"}
	c.AddCommand(onboardingStatusCmd(), onboardingUICmd())
	return c
}

func onboardingStatusCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "status [--watch] [--json]",
		Short: "Show the onboarding state, its stages and item statuses",
		Long: `status reads the onboarding state from the state directory (root only on macOS:
use sudo). --watch redraws at each change until onboarding ends; with --json it
prints one JSON document per change, one per line.`,
		Args: cli.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir := v.GetString("state-dir")
			read := func() (protocol.OnboardingReport, error) {
				r, err := onboarding.ReadReport(dir)
				if errors.Is(err, os.ErrPermission) {
					return r, fmt.Errorf("%w: the state directory is root-only; run with sudo", err)
				}
				return r, err
			}
			r, err := read()
			if err != nil {
				return err
			}
			show := func(r protocol.OnboardingReport) error {
				if v.GetBool("json") {
					r.DeviceID, r.Log = "", nil
					return cli.JSON(cmd.OutOrStdout(), r)
				}
				printOnboarding(cmd.OutOrStdout(), r, time.Now())
				return nil
			}
			if err := show(r); err != nil || !v.GetBool("watch") {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			src := &onboarding.FileSource{StateDir: dir, Every: 500 * time.Millisecond}
			g := routines.New(ctx)
			defer g.Close()
			g.Go(src.Watch)
			tick := time.NewTicker(time.Second)
			defer tick.Stop()
			for !r.Final() {
				changed := src.Changed()
				select {
				case <-ctx.Done():
					return nil
				case <-changed:
				case <-tick.C:
					if v.GetBool("json") {
						continue // the time left is not news
					}
				}
				if r, err = read(); err != nil {
					return err
				}
				if !v.GetBool("json") {
					fmt.Fprintln(cmd.OutOrStdout())
				}
				if err := show(r); err != nil {
					return err
				}
			}
			return nil
		},
	}
	cmd.Flags().Bool("watch", false, "follow the progress until onboarding ends")
	cmd.Flags().Bool("json", false, "print JSON")
	return cmd
}

// outcomeWords say how a finished onboarding ended.
var outcomeWords = map[string]string{
	protocol.OutcomeDone:             "done: setup is complete",
	protocol.OutcomeDoneWithFailures: "done, with failures: the IT team sees the reasons in the device's log",
	protocol.OutcomeTimedOut:         "timed out: what is left keeps installing in the background",
	protocol.OutcomeSkipped:          "skipped: nothing to set up on this Mac",
}

// printOnboarding is the terminal view: state, a progress bar over the
// stages, time left, what is installing, awaited and failed, then each
// stage and its items. Every count and list comes from the report's
// progress, as on the page and the server.
func printOnboarding(w io.Writer, r protocol.OnboardingReport, now time.Time) {
	p := protocol.OnboardingProgress{Outcome: r.State, StagesTotal: len(r.Stages)}
	if r.Progress != nil {
		p = *r.Progress
	}
	const width = 30
	fill := 0
	if p.StagesTotal > 0 {
		fill = width * min(p.StagesDone, p.StagesTotal) / p.StagesTotal
	}
	fmt.Fprintf(w, "onboarding: %s\n", r.State)
	if words, ok := outcomeWords[p.Outcome]; ok {
		fmt.Fprintf(w, "outcome: %s\n", words)
	}
	fmt.Fprintf(w, "[%s%s] %d/%d stages done", strings.Repeat("#", fill), strings.Repeat("-", width-fill), p.StagesDone, p.StagesTotal)
	if r.State == protocol.OnboardingRunning && !r.Deadline.IsZero() {
		fmt.Fprintf(w, ", %s left", max(0, r.Deadline.Sub(now)).Round(time.Second))
	}
	fmt.Fprintln(w)
	list := func(label string, names []string) {
		if len(names) > 0 {
			fmt.Fprintf(w, "%-12s %s\n", label, strings.Join(names, ", "))
		}
	}
	list("installing:", p.NowInstalling)
	list("waiting for:", p.WaitingFor)
	list("queued:", p.Queued)
	for _, f := range p.Failed {
		fmt.Fprintf(w, "%-12s %s\n", "failed:", f.Message)
	}
	for i, st := range r.Stages {
		fmt.Fprintf(w, "%d. %-40s %s\n", i+1, st.Name, st.Status)
		if len(st.Items) > 1 {
			for _, it := range st.Items {
				fmt.Fprintf(w, "     - %-37s %s%s\n", it.Name, it.Status, errSuffix(it))
			}
		} else if len(st.Items) == 1 && st.Items[0].Error != "" {
			fmt.Fprintf(w, "     %s\n", st.Items[0].Error)
		}
	}
	if len(r.Background) > 0 {
		fmt.Fprintln(w, "in the background:")
		for _, it := range r.Background {
			fmt.Fprintf(w, "   - %-39s %s%s\n", it.Name, it.Status, errSuffix(it))
		}
	}
}

func errSuffix(it protocol.OnboardingItem) string {
	if it.Error == "" {
		return ""
	}
	return " (" + it.Error + ")"
}

func onboardingUICmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ui [--listen ADDR] [--kiosk]",
		Short: "Serve the onboarding progress page on loopback; prints its address last",
		Long: `ui serves the progress page, read from the state directory, on a loopback
address with a per-run secret, and prints the address to open (secret included)
as the last line. It runs until interrupted.

--kiosk shows the page in the full-screen kiosk window (macOS; elsewhere it
prints the address for a browser) and exits 0 when onboarding ends, or 75 when
the page stopped answering before it ended. In the console user's session,
where the state directory cannot be read, it shows the page the daemon offers
to that user.`,
		Args: cli.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if v.GetBool("kiosk") {
				if s, err := desktop.UserInbox(desktop.DefaultOfferDir).Read(); err == nil && s.Onboarding() {
					return kioskOutcome(showKiosk(ctx, s.URL))
				}
			}
			src := onboarding.NewFileSource(v.GetString("state-dir"))
			if _, err := onboarding.LoadState(src.StateDir); err != nil {
				if errors.Is(err, os.ErrPermission) {
					return fmt.Errorf("%w: the state directory is root-only; run with sudo", err)
				}
				return err
			}
			page := onboarding.NewPage(src)
			srv, err := localweb.New(page, localweb.Options{Listen: v.GetString("listen")})
			if err != nil {
				return err
			}
			g := routines.New(ctx)
			defer g.Close()
			g.Go(src.Watch)
			g.Go(page.Publish)
			errc := make(chan error, 1)
			g.Go(func(ctx context.Context) { errc <- srv.Serve(ctx) })
			if v.GetBool("kiosk") {
				err := onboarding.ShowUntilDone(ctx, desktop.DefaultKiosk(), srv.URL(), func(context.Context) (protocol.OnboardingReport, error) {
					return src.Report(), nil
				}, onboarding.ShowOptions{Every: time.Second, Linger: 5 * time.Second, Gone: time.Minute})
				stop()
				return kioskOutcome(errors.Join(err, <-errc))
			}
			fmt.Fprintln(cmd.ErrOrStderr(), "onboarding progress page (Ctrl-C to stop):")
			fmt.Fprintln(cmd.OutOrStdout(), srv.URL())
			return <-errc
		},
	}
	cmd.Flags().String("listen", "127.0.0.1:0", "loopback address to listen on")
	cmd.Flags().Bool("kiosk", false, "show the page in the kiosk window until onboarding ends")
	return cmd
}

// showKiosk shows the daemon's page until onboarding ends.
func showKiosk(ctx context.Context, pageURL string) error {
	c, err := onboarding.NewPageClient(pageURL)
	if err != nil {
		return err
	}
	return onboarding.ShowUntilDone(ctx, desktop.DefaultKiosk(), pageURL, c.Status, onboarding.ShowOptions{Every: time.Second, Linger: 5 * time.Second, Gone: 30 * time.Second})
}
