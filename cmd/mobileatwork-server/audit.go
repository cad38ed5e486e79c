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
		RunE: withServer(func(s *server.Server, cmd *cobra.Command, _ []string) error {
			q := server.AuditQuery{Actor: v.GetString("actor"), Action: v.GetString("action"), Limit: v.GetInt("limit")}
			if q.Limit < 0 {
				return fmt.Errorf("%w: --limit must be 0 (no limit) or more, not %d", server.ErrInvalid, q.Limit)
			}
			since, err := parseSince(v.GetString("since"), s.Now())
			if err != nil {
				return err
			}
			q.Since = since
			es, err := s.AuditLog(cmd.Context(), q)
			if err != nil {
				return err
			}
			if v.GetBool("json") {
				out := []jsonview.AuditEntry{}
				for _, e := range es {
					out = append(out, jsonview.NewAuditEntry(e))
				}
				return cli.JSON(cmd.OutOrStdout(), out)
			}
			rows := [][]string{}
			for _, e := range es {
				rows = append(rows, []string{stamp(e.At), e.Actor, orDash(e.Role), orDash(e.Source), e.Action, orDash(e.Object), orDash(e.Summary)})
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
