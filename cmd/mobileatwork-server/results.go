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
			req := adminapi.ResultsRequest{
				Device: v.GetString("device"), Config: v.GetString("config"), Script: v.GetString("script"),
				Status: v.GetString("status"), Since: v.GetString("since"),
			}
			return printResults(cmd.Context(), cmd.OutOrStdout(), c, req, v.GetInt("limit"), v.GetBool("json"))
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

// eachResult hands fn the newest limit results matching req (0: all),
// the oldest first. All of them come oldest first, a page at a time, so a
// listing of the whole history holds one page in memory; the newest limit
// are read newest first, then handed in reverse.
func eachResult(ctx context.Context, c adminapi.Conn, req adminapi.ResultsRequest, limit int, fn func(jsonview.Result) error) error {
	if limit < 0 {
		return fmt.Errorf("%w: --limit must be 0 (no limit) or more, got %d", server.ErrInvalid, limit)
	}
	if limit == 0 {
		req.OldestFirst, req.Limit = true, adminapi.MaxLimit
		for {
			p, err := adminapi.Call(ctx, c, adminapi.ListResults, req)
			if err != nil {
				return err
			}
			for _, r := range p.Items {
				if err := fn(r); err != nil {
					return err
				}
			}
			if req.Cursor = p.Next; p.Next == "" {
				return nil
			}
		}
	}
	var rs []jsonview.Result
	for len(rs) < limit {
		req.Limit = min(limit-len(rs), adminapi.MaxLimit)
		p, err := adminapi.Call(ctx, c, adminapi.ListResults, req)
		if err != nil {
			return err
		}
		rs = append(rs, p.Items...)
		if req.Cursor = p.Next; p.Next == "" {
			break
		}
	}
	for _, r := range slices.Backward(rs) {
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

// printResults writes each result as it is read, so a listing of millions
// holds one page (and a block of table rows) in memory, not the list; a
// refusal prints nothing.
func printResults(ctx context.Context, w io.Writer, c adminapi.Conn, req adminapi.ResultsRequest, limit int, asJSON bool) error {
	if asJSON {
		a := cli.NewJSONArray(w)
		if err := eachResult(ctx, c, req, limit, func(r jsonview.Result) error { return a.Add(r) }); err != nil {
			return err
		}
		return a.Close()
	}
	t := cli.NewTableStream(w, []string{"RUN", "DEVICE", "CONFIGURATION", "SHA256", "STATUS", "EXIT", "DURATION", "OCCURRENCE", "STDOUT", "STDERR", "TRUNCATED", "ATTEMPT"})
	err := eachResult(ctx, c, req, limit, func(r jsonview.Result) error {
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
		return t.Row([]string{r.RunID, r.DeviceID, fmt.Sprintf("%s v%d", cfg, r.ConfigVersion), sha, r.Status, strconv.Itoa(r.ExitCode),
			(time.Duration(r.DurationMS) * time.Millisecond).String(), occ, r.Stdout, r.Stderr + r.Error, trunc, attemptCell(r.Attempt, r.RetryAt)})
	})
	if err != nil {
		return err
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
