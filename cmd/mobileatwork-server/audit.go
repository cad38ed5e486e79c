package main

import (
	"fmt"
	"os"
	"os/user"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/mobileatwork/mobileatwork/internal/cli"
	"github.com/mobileatwork/mobileatwork/server"
	"github.com/mobileatwork/mobileatwork/server/accounts"
	"github.com/mobileatwork/mobileatwork/server/adminapi"
	"github.com/mobileatwork/mobileatwork/server/jsonview"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// localActor is who the commands run at the host act as in the audit
// log: the operating system's user, with every right.
func localActor() server.Actor {
	name := os.Getenv("USER")
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	if name == "" {
		name = strconv.Itoa(os.Getuid())
	}
	return server.Actor{Name: "local:" + name, Kind: store.ActorLocal, Role: accounts.RoleAdmin, Source: "cli"}
}

func auditCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit [--since 24h|RFC3339] [--actor A] [--action PREFIX] [--limit N]",
		Short: "The audit log of every change, newest first",
		Long: `audit lists the audit log, newest first: each change to the tenant (by the
CLI here, an account in the console or an API token), each login and each
failed one. --since is a duration back from now (24h) or an RFC 3339
time; --action keeps actions starting with PREFIX (config. for every
configuration change). The log cannot be changed nor deleted.`,
		Args: cli.NoArgs,
		RunE: withAdmin(func(c adminapi.Conn, cmd *cobra.Command, _ []string) error {
			limit := v.GetInt("limit")
			if limit < 0 {
				return fmt.Errorf("%w: --limit must be 0 (no limit) or more, not %d", server.ErrInvalid, limit)
			}
			es, err := auditEntries(cmd, c, adminapi.AuditRequest{Since: v.GetString("since"), Actor: v.GetString("actor"), Action: v.GetString("action")}, limit)
			if err != nil {
				return err
			}
			if v.GetBool("json") {
				return cli.JSON(cmd.OutOrStdout(), es)
			}
			rows := [][]string{}
			for _, e := range es {
				rows = append(rows, []string{stampAt(e.At), e.Actor, orDash(e.Role), orDash(e.Source), e.Action, orDash(e.Object), orDash(e.Summary)})
			}
			return cli.Table(cmd.OutOrStdout(), []string{"AT", "ACTOR", "ROLE", "SOURCE", "ACTION", "OBJECT", "SUMMARY"}, rows)
		}),
	}
	cmd.Flags().String("since", "", "entries from this long ago (24h) or since this RFC 3339 time; default all")
	cmd.Flags().String("actor", "", "only this actor's entries (an account, a token, local:USER)")
	cmd.Flags().String("action", "", "only actions starting with this prefix (config., account.login)")
	cmd.Flags().Int("limit", 100, "the newest N entries; 0 for all")
	cmd.Flags().Bool("json", false, "print JSON")
	return cmd
}

// auditEntries reads the newest limit entries (0: all) page by page.
func auditEntries(cmd *cobra.Command, c adminapi.Conn, req adminapi.AuditRequest, limit int) ([]jsonview.AuditEntry, error) {
	out := []jsonview.AuditEntry{}
	for {
		req.Limit = adminapi.MaxLimit
		if limit > 0 {
			req.Limit = min(adminapi.MaxLimit, limit-len(out))
		}
		p, err := adminapi.Call(cmd.Context(), c, adminapi.ListAudit, req)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Items...)
		if p.Next == "" || (limit > 0 && len(out) >= limit) {
			return out, nil
		}
		req.Cursor = p.Next
	}
}
