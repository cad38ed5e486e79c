package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mobileatwork/mobileatwork/internal/cli"
	"github.com/mobileatwork/mobileatwork/server/adminapi"
)

func userCmds() []*cobra.Command {
	users := &cobra.Command{
		Use:   "users",
		Short: "List users (added by `user add` and `token create --user`)",
		Args:  cli.NoArgs,
		RunE: withAdmin(func(c adminapi.Conn, cmd *cobra.Command, _ []string) error {
			us, err := adminapi.All(cmd.Context(), c, adminapi.ListUsers, adminapi.ListRequest{})
			if err != nil {
				return err
			}
			if v.GetBool("json") {
				return cli.JSON(cmd.OutOrStdout(), us)
			}
			rows := [][]string{}
			for _, u := range us {
				rows = append(rows, []string{u.Email, orDash(u.Name), stampAt(u.CreatedAt)})
			}
			return cli.Table(cmd.OutOrStdout(), []string{"EMAIL", "NAME", "ADDED"}, rows)
		}),
	}
	users.Flags().Bool("json", false, "print JSON")

	user := &cobra.Command{Use: "user", Short: "Users: add (list with `users`)"}
	add := &cobra.Command{
		Use:   "add EMAIL [--name N]",
		Short: "Add a user, or name a known one",
		Args:  cli.ExactArgs(1),
		RunE: withAdmin(func(c adminapi.Conn, cmd *cobra.Command, args []string) error {
			u, err := adminapi.Call(cmd.Context(), c, adminapi.AddUser, adminapi.UserRequest{Email: args[0], Name: v.GetString("name")})
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), u.Email)
			return nil
		}),
	}
	add.Flags().String("name", "", "display name ({$userDisplayName} when the Mac reports none)")
	user.AddCommand(add)

	groups := &cobra.Command{
		Use:   "user-groups",
		Short: "List user groups and their members",
		Args:  cli.NoArgs,
		RunE: withAdmin(func(c adminapi.Conn, cmd *cobra.Command, _ []string) error {
			gs, err := adminapi.All(cmd.Context(), c, adminapi.ListUserGroups, adminapi.ListRequest{})
			if err != nil {
				return err
			}
			if v.GetBool("json") {
				return cli.JSON(cmd.OutOrStdout(), gs)
			}
			rows := [][]string{}
			for _, g := range gs {
				rows = append(rows, []string{g.Name, fmt.Sprint(len(g.Members)), strings.Join(g.Members, ","), g.Description})
			}
			return cli.Table(cmd.OutOrStdout(), []string{"NAME", "MEMBERS", "EMAILS", "DESCRIPTION"}, rows)
		}),
	}
	groups.Flags().Bool("json", false, "print JSON")

	group := &cobra.Command{Use: "user-group", Short: "User groups: add, set (list with `user-groups`)"}
	gadd := &cobra.Command{
		Use:   "add NAME [--member EMAIL]... [--description D]",
		Short: "Add a user group; members must be users",
		Args:  cli.ExactArgs(1),
		RunE: withAdmin(func(c adminapi.Conn, cmd *cobra.Command, args []string) error {
			g, err := adminapi.Call(cmd.Context(), c, adminapi.AddUserGroup, adminapi.UserGroupRequest{
				Name: args[0], Description: v.GetString("description"), Members: v.GetStringSlice("member"),
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "user group %q has %d member(s)\n", g.Name, len(g.Members))
			fmt.Fprintln(cmd.OutOrStdout(), g.Name)
			return nil
		}),
	}
	gadd.Flags().StringArray("member", nil, "EMAIL of a member (repeatable, comma-separated)")
	gadd.Flags().String("description", "", "what the group is")
	gset := &cobra.Command{
		Use:   "set NAME [--add EMAIL]... [--remove EMAIL]...",
		Short: "Add and remove members; configurations follow at each device's next check-in",
		Args:  cli.ExactArgs(1),
		RunE: withAdmin(func(c adminapi.Conn, cmd *cobra.Command, args []string) error {
			if err := needID(args[0], "user group's name", "user-groups"); err != nil {
				return err
			}
			g, err := adminapi.Call(cmd.Context(), c, adminapi.SetUserGroup, adminapi.UserGroupChange{
				Name: args[0], Add: v.GetStringSlice("add"), Remove: v.GetStringSlice("remove"),
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "user group %q has %d member(s): %s\n", g.Name, len(g.Members), strings.Join(g.Members, ", "))
			return nil
		}),
	}
	gset.Flags().StringArray("add", nil, "EMAIL to add (repeatable, comma-separated)")
	gset.Flags().StringArray("remove", nil, "EMAIL to remove (repeatable, comma-separated)")
	group.AddCommand(gadd, gset)
	return []*cobra.Command{users, user, groups, group}
}
