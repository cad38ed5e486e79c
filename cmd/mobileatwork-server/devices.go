package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mobileatwork/mobileatwork/internal/cli"
	"github.com/mobileatwork/mobileatwork/server"
	"github.com/mobileatwork/mobileatwork/server/adminapi"
)

func deviceCmds() []*cobra.Command {
	devices := &cobra.Command{
		Use:   "devices [--search TEXT] [--group NAME] [--user EMAIL]",
		Short: "List enrolled devices",
		Args:  cli.NoArgs,
		RunE: withAdmin(func(c adminapi.Conn, cmd *cobra.Command, _ []string) error {
			list, err := adminapi.All(cmd.Context(), c, adminapi.ListDevices, adminapi.DeviceListRequest{
				Search: v.GetString("search"), Group: v.GetString("group"), User: v.GetString("user"),
			})
			if err != nil {
				return err
			}
			return printDevices(cmd, list, true)
		}),
	}
	devices.Flags().Bool("json", false, "print JSON")
	devices.Flags().String("search", "", "only devices whose id, serial number, host name or user holds TEXT, in any case")
	devices.Flags().String("group", "", "only the devices of this device group")
	devices.Flags().String("user", "", "only the devices of this user (email)")

	device := &cobra.Command{Use: "device", Short: "One device: show, retire (list with `devices`)"}
	show := &cobra.Command{
		Use:   "show ID",
		Short: "The device's page: facts, user and groups, configurations and their status, apps, results, log",
		Args:  cli.ExactArgs(1),
		RunE: withAdmin(func(c adminapi.Conn, cmd *cobra.Command, args []string) error {
			if err := needID(args[0], "device's id", "devices"); err != nil {
				return err
			}
			d, err := adminapi.Call(cmd.Context(), c, adminapi.ShowDevice, adminapi.IDRequest{ID: args[0]})
			if err != nil {
				return err
			}
			return printDeviceDetail(cmd, d)
		}),
	}
	show.Flags().Bool("json", false, "print JSON")
	retire := &cobra.Command{
		Use:   "retire ID [--reason TEXT]",
		Short: "Cut a lost or stolen device off: its next request is refused; it comes back only with a new enrollment",
		Args:  cli.ExactArgs(1),
		RunE: withAdmin(func(c adminapi.Conn, cmd *cobra.Command, args []string) error {
			if err := needID(args[0], "device's id", "devices"); err != nil {
				return err
			}
			d, err := adminapi.Call(cmd.Context(), c, adminapi.RetireDevice, adminapi.DeviceRetireRequest{ID: args[0], Reason: v.GetString("reason")})
			if err != nil {
				return err
			}
			if v.GetBool("json") {
				return cli.JSON(cmd.OutOrStdout(), d)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "device %s retired: %s; its next request is refused\n", d.ID, retiredText(d.Retired))
			return nil
		}),
	}
	retire.Flags().String("reason", "", "why, one line of at most 256 bytes, kept with the device and in the audit log (default \""+server.DefaultRetireReason+"\")")
	retire.Flags().Bool("json", false, "print JSON")
	device.AddCommand(show, retire)

	groups := &cobra.Command{
		Use:   "groups DEVICE-ID GROUP... | none",
		Short: "Set the device groups of a device (none clears them)",
		Args:  cobra.MinimumNArgs(2),
		RunE: withAdmin(func(c adminapi.Conn, cmd *cobra.Command, args []string) error {
			if err := needID(args[0], "device's id", "devices"); err != nil {
				return err
			}
			_, err := adminapi.Call(cmd.Context(), c, adminapi.SetDeviceGroups, adminapi.DeviceGroupsRequest{ID: args[0], Groups: args[1:]})
			return err
		}),
	}
	deviceGroups := &cobra.Command{
		Use:   "device-groups",
		Short: "List device groups and their devices",
		Args:  cli.NoArgs,
		RunE: withAdmin(func(c adminapi.Conn, cmd *cobra.Command, _ []string) error {
			gs, err := adminapi.All(cmd.Context(), c, adminapi.ListDeviceGroups, adminapi.ListRequest{})
			if err != nil {
				return err
			}
			if v.GetBool("json") {
				return cli.JSON(cmd.OutOrStdout(), gs)
			}
			rows := [][]string{}
			for _, g := range gs {
				rows = append(rows, []string{g.Name, strings.Join(g.Devices, ",")})
			}
			return cli.Table(cmd.OutOrStdout(), []string{"GROUP", "DEVICES"}, rows)
		}),
	}
	deviceGroups.Flags().Bool("json", false, "print JSON")
	return []*cobra.Command{devices, device, groups, deviceGroups}
}

// needID refuses an empty id before any call: no path of the API names
// nothing, and both modes must say the same. list is the command that
// lists them.
func needID(id, what, list string) error {
	if strings.TrimSpace(id) == "" {
		return fmt.Errorf("give the %s; see `mobileatwork-server %s`", what, list)
	}
	return nil
}
