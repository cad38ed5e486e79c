package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/mobileatwork/mobileatwork/internal/cli"
	"github.com/mobileatwork/mobileatwork/server"
	"github.com/mobileatwork/mobileatwork/server/adminapi"
	"github.com/mobileatwork/mobileatwork/server/jsonview"
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
		RunE: withAdmin(func(c adminapi.Conn, cmd *cobra.Command, _ []string) error {
			rs, err := fetchResults(cmd.Context(), c, adminapi.ResultsRequest{
				Device: v.GetString("device"), Config: v.GetString("config"), Script: v.GetString("script"),
				Status: v.GetString("status"), Since: v.GetString("since"),
			}, v.GetInt("limit"))
			if err != nil {
				return err
			}
			return printResults(cmd.OutOrStdout(), rs, v.GetBool("json"))
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

// fetchResults reads the newest limit results matching req (0: all),
// page after page, and returns them the oldest first.
func fetchResults(ctx context.Context, c adminapi.Conn, req adminapi.ResultsRequest, limit int) ([]jsonview.Result, error) {
	if limit < 0 {
		return nil, fmt.Errorf("%w: --limit must be 0 (no limit) or more, got %d", server.ErrInvalid, limit)
	}
	var rs []jsonview.Result
	if limit == 0 {
		all, err := adminapi.All(ctx, c, adminapi.ListResults, req)
		if err != nil {
			return nil, err
		}
		rs = all
	}
	for len(rs) < limit {
		req.Limit = min(limit-len(rs), adminapi.MaxLimit)
		p, err := adminapi.Call(ctx, c, adminapi.ListResults, req)
		if err != nil {
			return nil, err
		}
		rs = append(rs, p.Items...)
		if req.Cursor = p.Next; p.Next == "" {
			break
		}
	}
	slices.Reverse(rs)
	return rs, nil
}

// printResults writes results as a table, or a JSON array, aligned a
// block of rows at a time as the listings of the store were.
func printResults(w io.Writer, rs []jsonview.Result, asJSON bool) error {
	if asJSON {
		a := cli.NewJSONArray(w)
		for _, r := range rs {
			if err := a.Add(r); err != nil {
				return err
			}
		}
		return a.Close()
	}
	t := cli.NewTableStream(w, []string{"RUN", "DEVICE", "CONFIGURATION", "SHA256", "STATUS", "EXIT", "DURATION", "OCCURRENCE", "STDOUT", "STDERR", "TRUNCATED", "ATTEMPT"})
	for _, r := range rs {
		occ := "once"
		if r.Occurrence != nil {
			occ = r.Occurrence.Format(time.RFC3339)
		}
		trunc := ""
		if r.Truncated {
			trunc = "yes"
		}
		cfg := orDash(r.ConfigName)
		if cfg == "-" {
			cfg = r.ConfigID + " (deleted)"
		}
		sha := "-"
		if len(r.ScriptSHA256) >= 12 {
			sha = r.ScriptSHA256[:12]
		}
		err := t.Row([]string{r.RunID, r.DeviceID, fmt.Sprintf("%s v%d", cfg, r.ConfigVersion), sha, r.Status, strconv.Itoa(r.ExitCode),
			(time.Duration(r.DurationMS) * time.Millisecond).String(), occ, r.Stdout, r.Stderr + r.Error, trunc, attemptCell(r.Attempt, r.RetryAt)})
		if err != nil {
			return err
		}
	}
	return t.Close()
}

// attemptCell is a result's attempt, and the next one's time when one
// follows; "-" for a run without retries.
func attemptCell(attempt int, retryAt *time.Time) string {
	switch {
	case retryAt != nil:
		return fmt.Sprintf("%d, next at %s", attempt, retryAt.Local().Format(time.RFC3339))
	case attempt > 0:
		return strconv.Itoa(attempt)
	}
	return "-"
}
