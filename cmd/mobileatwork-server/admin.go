package main

import (
	"bytes"
	"fmt"
	"io"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/mobileatwork/mobileatwork/internal/cli"
	"github.com/mobileatwork/mobileatwork/server"
	"github.com/mobileatwork/mobileatwork/server/accounts"
	"github.com/mobileatwork/mobileatwork/server/adminapi"
	"github.com/mobileatwork/mobileatwork/server/jsonview"
)

func adminCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "admin", Short: "Administrator accounts and API tokens of the admin API and console"}
	add := &cobra.Command{
		Use:   "add NAME --role admin|operator|auditor [--password-stdin]",
		Short: "Add an account; without --password-stdin prints a generated password alone on the last line",
		Long: `add makes an administrator account. An admin may do everything, an operator
reads and runs the fleet (scripts, configurations, run now, cancel), an
auditor only reads. The password is read from stdin with --password-stdin
(at least 12 characters; never give one in argv), else one is generated and
printed once. Only its argon2id hash is kept.`,
		Args: cli.ExactArgs(1),
		RunE: withAdmin(func(c adminapi.Conn, cmd *cobra.Command, args []string) error {
			pw, err := passwordStdin(cmd)
			if err != nil {
				return err
			}
			a, err := adminapi.Call(cmd.Context(), c, adminapi.AddAccount, adminapi.AccountRequest{Name: args[0], Role: v.GetString("role"), Password: pw})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "account %s added with role %s\n", a.Name, a.Role)
			return printPassword(cmd, a)
		}),
	}
	add.Flags().String("role", "", "admin, operator or auditor (required)")
	add.Flags().Bool("password-stdin", false, "read the password from stdin instead of generating one")
	list := &cobra.Command{
		Use:   "list",
		Short: "List the accounts (never their passwords)",
		Args:  cli.NoArgs,
		RunE: withAdmin(func(c adminapi.Conn, cmd *cobra.Command, _ []string) error {
			as, err := adminapi.All(cmd.Context(), c, adminapi.ListAccounts, adminapi.ListRequest{})
			if err != nil {
				return err
			}
			if v.GetBool("json") {
				return cli.JSON(cmd.OutOrStdout(), as)
			}
			rows := [][]string{}
			for _, a := range as {
				locked := "-"
				if a.LockedUntil != nil {
					locked = stampAt(a.LockedUntil)
				}
				rows = append(rows, []string{a.Name, a.Role, stampAt(a.CreatedAt), stampAt(a.LastLoginAt), strconv.Itoa(a.FailedLogins), locked})
			}
			return cli.Table(cmd.OutOrStdout(), []string{"NAME", "ROLE", "CREATED", "LAST LOGIN", "FAILED LOGINS", "LOCKED UNTIL"}, rows)
		}),
	}
	list.Flags().Bool("json", false, "print JSON")
	remove := &cobra.Command{
		Use:   "remove NAME",
		Short: "Remove an account and end its sessions (not the last admin)",
		Args:  cli.ExactArgs(1),
		RunE: withAdmin(func(c adminapi.Conn, cmd *cobra.Command, args []string) error {
			if _, err := adminapi.Call(cmd.Context(), c, adminapi.RemoveAccount, adminapi.NameRequest{Name: args[0]}); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "account %s removed\n", args[0])
			return nil
		}),
	}
	passwd := &cobra.Command{
		Use:   "passwd NAME [--password-stdin]",
		Short: "Set an account's password, lift its lockout and end its sessions",
		Args:  cli.ExactArgs(1),
		RunE: withAdmin(func(c adminapi.Conn, cmd *cobra.Command, args []string) error {
			pw, err := passwordStdin(cmd)
			if err != nil {
				return err
			}
			a, err := adminapi.Call(cmd.Context(), c, adminapi.SetAccountPassword, adminapi.AccountRequest{Name: args[0], Password: pw})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "password of %s changed; its sessions are ended\n", a.Name)
			return printPassword(cmd, a)
		}),
	}
	passwd.Flags().Bool("password-stdin", false, "read the password from stdin instead of generating one")
	role := &cobra.Command{
		Use:   "role NAME ROLE",
		Short: "Change an account's role (the last admin stays admin)",
		Args:  cli.ExactArgs(2),
		RunE: withAdmin(func(c adminapi.Conn, cmd *cobra.Command, args []string) error {
			a, err := adminapi.Call(cmd.Context(), c, adminapi.SetAccountRole, adminapi.RoleRequest{Name: args[0], Role: args[1]})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "account %s is %s\n", a.Name, a.Role)
			return nil
		}),
	}
	unlock := &cobra.Command{
		Use:   "unlock NAME",
		Short: "Lift an account's lockout after failed logins",
		Args:  cli.ExactArgs(1),
		RunE: withAdmin(func(c adminapi.Conn, cmd *cobra.Command, args []string) error {
			a, err := adminapi.Call(cmd.Context(), c, adminapi.UnlockAccount, adminapi.NameRequest{Name: args[0]})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "account %s unlocked\n", a.Name)
			return nil
		}),
	}
	cmd.AddCommand(add, list, remove, passwd, role, unlock, apiTokenCmd())
	return cmd
}

// passwordStdin is the password given on stdin with --password-stdin, its
// line end dropped; "" without the flag (the server generates one).
func passwordStdin(cmd *cobra.Command) (string, error) {
	if !v.GetBool("password-stdin") {
		return "", nil
	}
	b, err := io.ReadAll(io.LimitReader(cmd.InOrStdin(), accounts.MaxPasswordLen+3))
	if err != nil {
		return "", fmt.Errorf("--password-stdin: %w", err)
	}
	b = bytes.TrimSuffix(bytes.TrimSuffix(b, []byte("\n")), []byte("\r"))
	if len(b) == 0 {
		return "", fmt.Errorf("%w: --password-stdin: stdin held no password", server.ErrInvalid)
	}
	return string(b), nil
}

// printPassword prints a generated password alone on the last line, once.
func printPassword(cmd *cobra.Command, a jsonview.Account) error {
	if a.GeneratedPassword == "" {
		return nil
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "the password of %s is below; it is shown only this once\n", a.Name)
	_, err := fmt.Fprintln(cmd.OutOrStdout(), a.GeneratedPassword)
	return err
}

func apiTokenCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "token", Short: "API tokens of programs using the admin API: create, list, revoke"}
	create := &cobra.Command{
		Use:   "create NAME --role admin|operator|auditor [--ttl 720h]",
		Short: "Create an API token; prints its secret alone on the last line, once",
		Long: `create makes an API token with a role for a program using the admin API. The
secret is printed once: only its SHA-256 is kept. --ttl is a duration (720h)
or days (30d); 0 makes a token that lasts until revoked.`,
		Args: cli.ExactArgs(1),
		RunE: withAdmin(func(c adminapi.Conn, cmd *cobra.Command, args []string) error {
			made, err := adminapi.Call(cmd.Context(), c, adminapi.CreateAPIToken, adminapi.APITokenRequest{Name: args[0], Role: v.GetString("role"), TTL: v.GetString("ttl")})
			if err != nil {
				return err
			}
			t := made.Token
			fmt.Fprintf(cmd.ErrOrStderr(), "API token %s (%s, %s) expires %s; the secret below is shown only this once\n", t.Name, t.ID, t.Role, stampAt(t.ExpiresAt))
			fmt.Fprintln(cmd.OutOrStdout(), made.Secret)
			return nil
		}),
	}
	create.Flags().String("role", "", "admin, operator or auditor (required)")
	create.Flags().String("ttl", "720h", "how long the token stays valid: a duration (720h), days (30d), or 0 for no expiry")
	list := &cobra.Command{
		Use:   "list",
		Short: "List API tokens (never their secrets)",
		Args:  cli.NoArgs,
		RunE: withAdmin(func(c adminapi.Conn, cmd *cobra.Command, _ []string) error {
			ts, err := adminapi.All(cmd.Context(), c, adminapi.ListAPITokens, adminapi.ListRequest{})
			if err != nil {
				return err
			}
			if v.GetBool("json") {
				return cli.JSON(cmd.OutOrStdout(), ts)
			}
			rows := [][]string{}
			for _, t := range ts {
				rows = append(rows, []string{t.Name, t.ID, t.Role, t.State, t.CreatedBy, stampAt(t.CreatedAt), stampAt(t.ExpiresAt), stampAt(t.LastUsedAt)})
			}
			return cli.Table(cmd.OutOrStdout(), []string{"NAME", "ID", "ROLE", "STATE", "CREATED BY", "CREATED", "EXPIRES", "LAST USED"}, rows)
		}),
	}
	list.Flags().Bool("json", false, "print JSON")
	revoke := &cobra.Command{
		Use:   "revoke NAME",
		Short: "Make an API token unusable at once",
		Args:  cli.ExactArgs(1),
		RunE: withAdmin(func(c adminapi.Conn, cmd *cobra.Command, args []string) error {
			t, err := adminapi.Call(cmd.Context(), c, adminapi.RevokeAPIToken, adminapi.NameRequest{Name: args[0]})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "API token %s revoked\n", t.Name)
			return nil
		}),
	}
	cmd.AddCommand(create, list, revoke)
	return cmd
}
