package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/mobileatwork/mobileatwork/internal/cli"
	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server"
	"github.com/mobileatwork/mobileatwork/server/adminapi"
	"github.com/mobileatwork/mobileatwork/server/jsonview"
)

// exitUnanswered is run's exit status when a reached device did not
// answer within --wait.
const exitUnanswered = 3

func runCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "run --script REF (--device ID | --to TARGET)... [--input NAME=VALUE]... [--retries N] [--wait 60s] [--expires 24h] [--json]",
		Short: "Run a script now on devices: online ones check in at once; prints the configuration id, or the results with --wait",
		Long: `run adds a one-off run-once script configuration named "Run now: SCRIPT (time)"
for the devices given (--device ID, repeatable) and the targets (--to TARGET) and
asks them to check in now over their wake channel: an online device runs it
within seconds, an offline one at its next check-in, until --expires has passed
(then devices that have not run it no longer receive it). ` + targetHelp + `

With --wait D it prints each device's progress (running) and result as they
arrive, for at most D, then a summary; --json prints one document at the end.
With --retries N a failed attempt is printed with the time of the next one, and
--wait goes on until each device's last attempt.

Exit status: 0 when every device reached answered within --wait (a failed run is
an answer) or without --wait; 1 on an error (nothing is made when the request is
refused); 3 when some device did not answer in time (it still runs the script at
its next check-in until --expires).`,
		Args: cli.NoArgs,
		RunE: withAdmin(func(c adminapi.Conn, cmd *cobra.Command, _ []string) error {
			wait := v.GetDuration("wait")
			if wait < 0 {
				return fmt.Errorf("--wait must be 0 (do not wait) or a positive duration such as 60s, not %s", wait)
			}
			rn, err := adminapi.Call(cmd.Context(), c, adminapi.CreateRun, adminapi.RunRequest{
				Script: v.GetString("script"), Inputs: v.GetStringSlice("input"), RunAs: v.GetString("run-as"),
				Devices: v.GetStringSlice("device"), To: v.GetStringSlice("to"), Expires: v.GetDuration("expires").String(),
				Retries: v.GetInt("retries"),
			})
			if err != nil {
				return err
			}
			cfg := rn.Config
			fmt.Fprintf(cmd.ErrOrStderr(), "run-now configuration %q (%s) reaches %d device(s), asked to check in now; it expires %s\n",
				cfg.Name, cfg.ID, len(rn.Devices), expiry(cfg))
			asJSON := v.GetBool("json")
			if wait == 0 {
				if asJSON {
					return cli.JSON(cmd.OutOrStdout(), runJSON{Config: cfg, Devices: rn.Devices, Results: []jsonview.Result{}})
				}
				fmt.Fprintln(cmd.OutOrStdout(), cfg.ID)
				return nil
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return waitRun(ctx, cmd, c, rn, wait, asJSON)
		}),
	}
	f := cmd.Flags()
	f.String("script", "", "the script: id or name (see `scripts`)")
	f.StringArray("device", nil, "a device id (repeatable)")
	f.StringArray("to", nil, "TARGET (repeatable, comma-separated)")
	f.StringArray("input", nil, "NAME=VALUE override of a declared input (repeatable); values may hold {$variables}")
	f.String("run-as", "", "root (default) or console_user")
	retriesFlag(f)
	f.Duration("wait", 0, "print progress and results as they arrive, for at most this long (0: print the configuration id and return)")
	f.Duration("expires", server.DefaultRunExpiry, "devices that have not run it by then no longer receive it")
	f.Bool("json", false, "print JSON: the configuration, the devices reached, and with --wait their results")
	return cmd
}

// runJSON is what `run --json` prints.
type runJSON struct {
	Config     jsonview.Config   `json:"configuration"`
	Devices    []string          `json:"devices"`
	Results    []jsonview.Result `json:"results"`
	Unanswered []string          `json:"unanswered,omitempty"`
}

// expiry is when a run-now configuration expires, as run prints it.
func expiry(c jsonview.Config) string {
	if c.ExpiresAt == nil {
		return "never"
	}
	return c.ExpiresAt.Format(time.RFC3339)
}

// waitRun prints the progress of a run until every device answered or
// wait passed, then the summary.
func waitRun(ctx context.Context, cmd *cobra.Command, c adminapi.Conn, rn adminapi.RunCreated, wait time.Duration, asJSON bool) error {
	out := cmd.OutOrStdout()
	ids := rn.Devices
	got, err := watchRun(ctx, c, rn.Config.ID, ids, wait, func(e runEvent) {
		if !asJSON {
			printRunEvent(out, e)
		}
	})
	if err != nil {
		return err
	}
	var missing []string
	results := []jsonview.Result{}
	counts := map[string]int{}
	for _, id := range ids {
		r, ok := got[id]
		if !ok {
			missing = append(missing, id)
			continue
		}
		counts[r.Status]++
		r.ConfigName = rn.Config.Name
		results = append(results, r)
	}
	if asJSON {
		if err := cli.JSON(out, runJSON{Config: rn.Config, Devices: ids, Results: results, Unanswered: missing}); err != nil {
			return err
		}
	}
	var parts []string
	for _, st := range protocol.ResultStatuses {
		if counts[st] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[st], st))
		}
	}
	summary := fmt.Sprintf("%d of %d device(s) answered", len(got), len(ids))
	if len(parts) > 0 {
		summary += ": " + strings.Join(parts, ", ")
	}
	fmt.Fprintln(cmd.ErrOrStderr(), summary)
	if len(missing) == 0 {
		return nil
	}
	return &cli.ExitStatus{Code: exitUnanswered, Err: fmt.Errorf("%d device(s) did not answer within %s: %s; they run it at their next check-in until %s",
		len(missing), wait, knownIDs(missing), expiry(rn.Config))}
}

// knownIDs lists ids, the first 10 of a long list.
func knownIDs(ids []string) string {
	if len(ids) > 10 {
		return strings.Join(ids[:10], ", ") + fmt.Sprintf(" and %d more", len(ids)-10)
	}
	return strings.Join(ids, ", ")
}

// printRunEvent writes one line of progress: the device, its status, and
// for a result the exit code, the duration and the first line of output.
func printRunEvent(w io.Writer, e runEvent) {
	if e.Result == nil {
		if e.Detail != "" {
			fmt.Fprintf(w, "%s\t%s\t%s\n", e.DeviceID, e.Status, e.Detail)
		} else {
			fmt.Fprintf(w, "%s\t%s\n", e.DeviceID, e.Status)
		}
		return
	}
	r := e.Result
	text := r.Stdout
	if strings.TrimSpace(text) == "" {
		text = r.Stderr + r.Error
	}
	first, _, _ := strings.Cut(strings.TrimSpace(text), "\n")
	if len(first) > 200 {
		first = first[:200] + "..."
	}
	// The script's output is the device's: written Printable.
	fmt.Fprintf(w, "%s\t%s\texit %d\t%s\t%s%s\n", e.DeviceID, r.Status, r.ExitCode, time.Duration(r.DurationMS)*time.Millisecond, cli.Printable(first), attemptNote(r.Attempt, r.RetryAt))
}

// attemptNote says, after a result line, which attempt it was and when the
// next follows; nothing for a run without retries.
func attemptNote(attempt int, retryAt *time.Time) string {
	switch {
	case retryAt != nil:
		return fmt.Sprintf("\tattempt %d; next at %s", attempt, retryAt.Format(time.RFC3339))
	case attempt > 0:
		return fmt.Sprintf("\tattempt %d", attempt)
	}
	return ""
}
