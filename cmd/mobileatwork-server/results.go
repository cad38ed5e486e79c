package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/mobileatwork/mobileatwork/internal/cli"
	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server"
	"github.com/mobileatwork/mobileatwork/server/jsonview"
	"github.com/mobileatwork/mobileatwork/server/store"
)

func resultsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "results [--device ID] [--config REF] [--script REF] [--status S] [--since T] [--limit N]",
		Short: "List script results, the oldest first",
		Long: `results lists what devices reported. Each row names the configuration and the
version it had when the script ran, and the SHA-256 of the body that ran.
--since takes an RFC 3339 time or a duration back from now (24h); --limit N
keeps the newest N.`,
		Args: cli.NoArgs,
		RunE: withServer(func(s *server.Server, cmd *cobra.Command, _ []string) error {
			since, err := parseSince(v.GetString("since"), s.Now())
			if err != nil {
				return err
			}
			names := map[string]string{}
			if cs, err := s.Configurations(cmd.Context(), ""); err == nil {
				for _, c := range cs {
					names[c.ID] = c.Name
				}
			}
			q := server.ResultQuery{
				Device: v.GetString("device"), Config: v.GetString("config"), Script: v.GetString("script"),
				Status: v.GetString("status"), Since: since, Limit: v.GetInt("limit"),
			}
			return printResults(cmd.Context(), cmd.OutOrStdout(), s, q, names, v.GetBool("json"))
		}),
	}
	f := cmd.Flags()
	f.String("device", "", "only this device")
	f.String("config", "", "only this configuration (id or name)")
	f.String("script", "", "only this script (id or name)")
	f.String("status", "", "only succeeded, failed, timed_out, rejected or error")
	f.String("since", "", "only results received since this time (RFC 3339) or this long ago (24h)")
	f.Int("limit", 0, "only the newest N (0: all)")
	f.Bool("json", false, "print JSON: an array of result objects")
	return cmd
}

// printResults writes each result as the store reads it, so a listing of
// millions holds one row (a block of table rows) in memory, not the list.
func printResults(ctx context.Context, w io.Writer, s *server.Server, q server.ResultQuery, names map[string]string, asJSON bool) error {
	if asJSON {
		a := cli.NewJSONArray(w)
		err := s.EachResult(ctx, q, func(r store.StoredResult) error {
			return a.Add(jsonview.NewResult(r, names[r.AssignmentID]))
		})
		if err != nil {
			return err
		}
		return a.Close()
	}
	t := cli.NewTableStream(w, []string{"RUN", "DEVICE", "CONFIGURATION", "SHA256", "STATUS", "EXIT", "DURATION", "OCCURRENCE", "STDOUT", "STDERR", "TRUNCATED", "ATTEMPT"})
	err := s.EachResult(ctx, q, func(r store.StoredResult) error {
		occ := "once"
		if !r.Occurrence.IsZero() {
			occ = r.Occurrence.Format(time.RFC3339)
		}
		trunc := ""
		if r.Truncated {
			trunc = "yes"
		}
		cfg := orDash(names[r.AssignmentID])
		if cfg == "-" {
			cfg = r.AssignmentID + " (deleted)"
		}
		sha := "-"
		if len(r.ScriptSHA256) >= 12 {
			sha = r.ScriptSHA256[:12]
		}
		return t.Row([]string{r.RunID, r.DeviceID, fmt.Sprintf("%s v%d", cfg, r.AssignmentVersion), sha, r.Status, strconv.Itoa(r.ExitCode),
			(time.Duration(r.DurationMS) * time.Millisecond).String(), occ, r.Stdout, r.Stderr + r.Error, trunc, attemptCell(r.Result)})
	})
	if err != nil {
		return err
	}
	return t.Close()
}

// attemptCell is a result's attempt, and the next one's time when one
// follows; "-" for a run without retries.
func attemptCell(r protocol.Result) string {
	switch {
	case !r.RetryAt.IsZero():
		return fmt.Sprintf("%d, next at %s", r.Attempt, r.RetryAt.Local().Format(time.RFC3339))
	case r.Attempt > 0:
		return strconv.Itoa(r.Attempt)
	}
	return "-"
}

func parseSince(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("--since %q: want an RFC 3339 time (2027-01-31T08:00:00Z) or a duration (24h)", s)
}
