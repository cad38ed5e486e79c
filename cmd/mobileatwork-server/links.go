package main

import (
	"fmt"
	"io"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/mobileatwork/mobileatwork/internal/cli"
	"github.com/mobileatwork/mobileatwork/server"
	"github.com/mobileatwork/mobileatwork/server/adminapi"
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
		RunE: withAdmin(func(c adminapi.Conn, cmd *cobra.Command, args []string) error {
			kv, err := server.TenantURLPairs(args)
			if err != nil {
				return err
			}
			var req adminapi.TenantChange
			if u, ok := kv[server.KeyServerURL]; ok {
				req.ServerURL = &u
			}
			if u, ok := kv[server.KeyEnrollURL]; ok {
				req.EnrollURL = &u
			}
			u, err := adminapi.Call(cmd.Context(), c, adminapi.SetTenant, req)
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
		RunE: withAdmin(func(c adminapi.Conn, cmd *cobra.Command, _ []string) error {
			u, err := adminapi.Call(cmd.Context(), c, adminapi.ShowTenant, adminapi.None{})
			if err != nil {
				return err
			}
			if v.GetBool("json") {
				return cli.JSON(cmd.OutOrStdout(), u)
			}
			return printTenantURLs(cmd.OutOrStdout(), u)
		}),
	}
	show.Flags().Bool("json", false, "print JSON")
	cmd.AddCommand(set, show)
	return cmd
}

func printTenantURLs(w io.Writer, u jsonview.TenantURLs) error {
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
		RunE: withAdmin(func(c adminapi.Conn, cmd *cobra.Command, _ []string) error {
			l, err := adminapi.Call(cmd.Context(), c, adminapi.CreateLink, adminapi.LinkRequest{
				User: v.GetString("user"), Uses: new(v.GetInt("uses")), TTL: v.GetString("ttl"),
			})
			if err != nil {
				return err
			}
			if v.GetBool("json") {
				return cli.JSON(cmd.OutOrStdout(), l)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "link %s: %d download(s) until %s; share the URL below, it is shown only once\n", l.ID, l.Uses, stampAt(l.ExpiresAt))
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
		RunE: withAdmin(func(c adminapi.Conn, cmd *cobra.Command, _ []string) error {
			ls, err := adminapi.All(cmd.Context(), c, adminapi.ListLinks, adminapi.ListRequest{})
			if err != nil {
				return err
			}
			if v.GetBool("json") {
				return cli.JSON(cmd.OutOrStdout(), ls)
			}
			rows := [][]string{}
			for _, l := range ls {
				rows = append(rows, []string{l.ID, orDash(l.User), stampAt(l.CreatedAt), stampAt(l.ExpiresAt), strconv.Itoa(l.Uses), strconv.Itoa(l.Downloads), stampOrDashAt(l.LastDownloadAt), l.State})
			}
			return cli.Table(cmd.OutOrStdout(), []string{"ID", "USER", "CREATED", "EXPIRES", "USES", "DOWNLOADS", "LAST DOWNLOAD", "STATE"}, rows)
		}),
	}
	list.Flags().Bool("json", false, "print JSON")
	revoke := &cobra.Command{
		Use:   "revoke ID",
		Short: "Make a link unusable at once, with the token of its package (ids from `link list`)",
		Args:  cli.ExactArgs(1),
		RunE: withAdmin(func(c adminapi.Conn, cmd *cobra.Command, args []string) error {
			if err := needID(args[0], "link's id", "link list"); err != nil {
				return err
			}
			l, err := adminapi.Call(cmd.Context(), c, adminapi.RevokeLink, adminapi.IDRequest{ID: args[0]})
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
