package main

import (
	"fmt"
	"io"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/mobileatwork/mobileatwork/internal/cli"
	"github.com/mobileatwork/mobileatwork/server"
	"github.com/mobileatwork/mobileatwork/server/jsonview"
)

func tenantCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "tenant", Short: "The tenant's public URLs: set, show"}
	set := &cobra.Command{
		Use:   "set KEY=VALUE...",
		Short: "Keep the tenant's public URLs: server_url (device API), enroll_url (download links)",
		Long: `set keeps the tenant's public addresses, all or nothing:

  server_url  https://HOST[:PORT] the Macs reach the device API at; its host
              must be one the server's TLS certificate names. package and
              download links put it in their enrollment file.
  enroll_url  https://HOST[:PORT] of serve --enroll-listen as users reach
              it; download links are enroll_url/e/SECRET.

An empty VALUE forgets the key.`,
		Args: cobra.ArbitraryArgs,
		RunE: withServer(func(s *server.Server, cmd *cobra.Command, args []string) error {
			u, err := s.SetTenantURLs(cmd.Context(), args)
			if err != nil {
				return err
			}
			return printTenantURLs(cmd.OutOrStdout(), u)
		}),
	}
	show := &cobra.Command{
		Use:   "show",
		Short: "Show the tenant's public URLs",
		Args:  cli.NoArgs,
		RunE: withServer(func(s *server.Server, cmd *cobra.Command, _ []string) error {
			u, err := s.TenantURLs(cmd.Context())
			if err != nil {
				return err
			}
			if v.GetBool("json") {
				return cli.JSON(cmd.OutOrStdout(), jsonview.NewTenantURLs(u))
			}
			return printTenantURLs(cmd.OutOrStdout(), u)
		}),
	}
	show.Flags().Bool("json", false, "print JSON")
	cmd.AddCommand(set, show)
	return cmd
}

func printTenantURLs(w io.Writer, u server.TenantURLs) error {
	_, err := fmt.Fprintf(w, "server_url:  %s\nenroll_url:  %s\n", orDash(u.ServerURL), orDash(u.EnrollURL))
	return err
}

func linkCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "link", Short: "Download links of the enrolling package: create, list, revoke"}
	create := &cobra.Command{
		Use:   "create [--user EMAIL] [--ttl 72h] [--uses 1]",
		Short: "Create a download link; prints its one-time URL alone on the last line",
		Long: `create makes a download link for serve --enroll-listen: enroll_url/e/SECRET.
Its page offers the enrolling package, built at the first download with a
fresh enrollment token for --user inside (as package builds one; the token
has the link's uses and expires 7 days after the link). The link serves
that package --uses times within --ttl. The URL is printed once: only a
hash of its secret is kept. Needs the tenant's server_url and enroll_url
(tenant set).`,
		Args: cli.NoArgs,
		RunE: withServer(func(s *server.Server, cmd *cobra.Command, _ []string) error {
			ttl, err := server.ParseTTL(v.GetString("ttl"))
			if err != nil {
				return err
			}
			l, err := s.CreateLink(cmd.Context(), v.GetString("user"), v.GetInt("uses"), ttl)
			if err != nil {
				return err
			}
			if v.GetBool("json") {
				return cli.JSON(cmd.OutOrStdout(), jsonview.NewLink(l))
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "link %s: %d download(s) until %s; share the URL below, it is shown only once\n", l.ID, l.Uses, stamp(l.ExpiresAt))
			fmt.Fprintln(cmd.OutOrStdout(), l.URL)
			return nil
		}),
	}
	create.Flags().String("user", "", "email of the user the enrolled Macs belong to")
	create.Flags().Int("uses", 1, "how many downloads the link serves")
	create.Flags().String("ttl", "72h", "how long the link stays valid: a duration (72h) or days (3d)")
	create.Flags().Bool("json", false, "print JSON")
	list := &cobra.Command{
		Use:   "list",
		Short: "List download links (never their secrets)",
		Args:  cli.NoArgs,
		RunE: withServer(func(s *server.Server, cmd *cobra.Command, _ []string) error {
			ls, err := s.Links(cmd.Context())
			if err != nil {
				return err
			}
			if v.GetBool("json") {
				out := []jsonview.Link{}
				for _, l := range ls {
					out = append(out, jsonview.NewLink(l))
				}
				return cli.JSON(cmd.OutOrStdout(), out)
			}
			rows := [][]string{}
			for _, l := range ls {
				last := "-"
				if !l.LastDownloadAt.IsZero() {
					last = stamp(l.LastDownloadAt)
				}
				rows = append(rows, []string{l.ID, orDash(l.User), stamp(l.CreatedAt), stamp(l.ExpiresAt), strconv.Itoa(l.Uses), strconv.Itoa(l.Downloads), last, l.State})
			}
			return cli.Table(cmd.OutOrStdout(), []string{"ID", "USER", "CREATED", "EXPIRES", "USES", "DOWNLOADS", "LAST DOWNLOAD", "STATE"}, rows)
		}),
	}
	list.Flags().Bool("json", false, "print JSON")
	revoke := &cobra.Command{
		Use:   "revoke ID",
		Short: "Make a link unusable at once, with the token of its package (ids from `link list`)",
		Args:  cli.ExactArgs(1),
		RunE: withServer(func(s *server.Server, cmd *cobra.Command, args []string) error {
			l, err := s.RevokeLink(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "link %s revoked\n", l.ID)
			return nil
		}),
	}
	cmd.AddCommand(create, list, revoke)
	return cmd
}
