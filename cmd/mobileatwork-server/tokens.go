package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/mobileatwork/mobileatwork/internal/cli"
	"github.com/mobileatwork/mobileatwork/server/adminapi"
)

func tokenCmds() []*cobra.Command {
	tok := &cobra.Command{Use: "token", Short: "Enrollment tokens: create, revoke (list them with `tokens`)"}
	create := &cobra.Command{
		Use:   "create [--user EMAIL] [--uses N] [--ttl 24h]",
		Short: "Create an enrollment token; prints it alone on the last line",
		Long: `create makes a one-time (or --uses N) enrollment token valid for --ttl. The token
carries a secret and the SHA-256 pin of the tenant CA, so the agent can check the
server before it sends anything. Only a hash of the secret is stored. --user
makes the enrolled device that user's, and adds the user if it is new.`,
		Args: cli.NoArgs,
		RunE: withAdmin(func(c adminapi.Conn, cmd *cobra.Command, _ []string) error {
			t, err := adminapi.Call(cmd.Context(), c, adminapi.CreateToken, adminapi.TokenRequest{
				User: v.GetString("user"), Uses: new(v.GetInt("uses")), TTL: v.GetDuration("ttl").String(),
			})
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), t.Token)
			return nil
		}),
	}
	create.Flags().String("user", "", "email of the user the device belongs to")
	create.Flags().Int("uses", 1, "how many devices may enroll with it")
	create.Flags().Duration("ttl", 24*time.Hour, "how long it stays valid")
	revoke := &cobra.Command{
		Use:   "revoke ID",
		Short: "Make a token unusable at once (ids from `tokens`)",
		Args:  cli.ExactArgs(1),
		RunE: withAdmin(func(c adminapi.Conn, cmd *cobra.Command, args []string) error {
			t, err := adminapi.Call(cmd.Context(), c, adminapi.RevokeToken, adminapi.IDRequest{ID: args[0]})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "token %s revoked\n", t.ID)
			return nil
		}),
	}
	tok.AddCommand(create, revoke)

	list := &cobra.Command{
		Use:   "tokens",
		Short: "List enrollment tokens (never their secrets)",
		Args:  cli.NoArgs,
		RunE: withAdmin(func(c adminapi.Conn, cmd *cobra.Command, _ []string) error {
			ts, err := adminapi.All(cmd.Context(), c, adminapi.ListTokens, adminapi.ListRequest{})
			if err != nil {
				return err
			}
			if v.GetBool("json") {
				return cli.JSON(cmd.OutOrStdout(), ts)
			}
			rows := [][]string{}
			for _, t := range ts {
				rows = append(rows, []string{t.ID, orDash(t.User), fmt.Sprint(t.UsesLeft), t.State, stampAt(t.ExpiresAt), stampAt(t.CreatedAt)})
			}
			return cli.Table(cmd.OutOrStdout(), []string{"ID", "USER", "USES LEFT", "STATE", "EXPIRES", "CREATED"}, rows)
		}),
	}
	list.Flags().Bool("json", false, "print JSON")
	return []*cobra.Command{tok, list}
}

// stamp is a time for tables, in the local zone; "never" for none.
func stamp(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.Local().Format(time.RFC3339)
}

// stampAt is stamp for the optional instants of JSON documents.
func stampAt(t *time.Time) string {
	if t == nil {
		return "never"
	}
	return stamp(*t)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
