package main

import (
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mobileatwork/mobileatwork/internal/cli"
	"github.com/mobileatwork/mobileatwork/server"
)

func deviceCmds() []*cobra.Command {
	devices := &cobra.Command{
		Use:   "devices",
		Short: "List enrolled devices",
		Args:  cli.NoArgs,
		RunE: withServer(func(s *server.Server, cmd *cobra.Command, _ []string) error {
			list, err := s.Store.Devices(cmd.Context())
			if err != nil {
				return err
			}
			stops, err := s.ScriptsStops(cmd.Context())
			if err != nil {
				return err
			}
			return printDevices(cmd, list, stops)
		}),
	}
	devices.Flags().Bool("json", false, "print JSON")

	device := &cobra.Command{Use: "device", Short: "One device: show (list with `devices`)"}
	show := &cobra.Command{
		Use:   "show ID",
		Short: "The device's page: facts, user and groups, configurations and their status, apps, results, log",
		Args:  cli.ExactArgs(1),
		RunE: withServer(func(s *server.Server, cmd *cobra.Command, args []string) error {
			d, err := s.DeviceDetail(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return printDeviceDetail(cmd, d)
		}),
	}
	show.Flags().Bool("json", false, "print JSON")
	device.AddCommand(show)

	groups := &cobra.Command{
		Use:   "groups DEVICE-ID GROUP... | none",
		Short: "Set the device groups of a device (none clears them)",
		Args:  cobra.MinimumNArgs(2),
		RunE: withServer(func(s *server.Server, cmd *cobra.Command, args []string) error {
			return s.SetDeviceGroups(cmd.Context(), args[0], args[1:])
		}),
	}
	deviceGroups := &cobra.Command{
		Use:   "device-groups",
		Short: "List device groups and their devices",
		Args:  cli.NoArgs,
		RunE: withServer(func(s *server.Server, cmd *cobra.Command, _ []string) error {
			gs, err := s.DeviceGroups(cmd.Context())
			if err != nil {
				return err
			}
			if v.GetBool("json") {
				type group struct {
					Name    string   `json:"name"`
					Devices []string `json:"devices"`
				}
				out := []group{}
				for _, n := range sortedNames(gs) {
					out = append(out, group{n, gs[n]})
				}
				return cli.JSON(cmd.OutOrStdout(), out)
			}
			rows := [][]string{}
			for _, n := range sortedNames(gs) {
				rows = append(rows, []string{n, strings.Join(gs[n], ",")})
			}
			return cli.Table(cmd.OutOrStdout(), []string{"GROUP", "DEVICES"}, rows)
		}),
	}
	deviceGroups.Flags().Bool("json", false, "print JSON")
	return []*cobra.Command{devices, device, groups, deviceGroups}
}

func sortedNames(m map[string][]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
