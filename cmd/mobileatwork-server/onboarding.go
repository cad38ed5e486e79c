package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mobileatwork/mobileatwork/internal/cli"
	"github.com/mobileatwork/mobileatwork/server/adminapi"
	"github.com/mobileatwork/mobileatwork/server/jsonview"
)

func profileCmd() *cobra.Command {
	c := &cobra.Command{Use: "profile", Short: "Configurations (profiles) the onboarding waits for"}
	add := &cobra.Command{
		Use:   "add --name NAME --identifier PAYLOAD-IDENTIFIER",
		Short: "Add a configuration to the onboarding plan; prints its id last",
		Long: `add names a configuration profile that MDM installs and the onboarding waits for
(stage 1). The agent recognises it by its PayloadIdentifier, as
"profiles list" shows it on the Mac.`,
		Args: cli.NoArgs,
		RunE: withAdmin(func(c adminapi.Conn, cmd *cobra.Command, _ []string) error {
			p, err := adminapi.Call(cmd.Context(), c, adminapi.AddProfile, adminapi.ProfileRequest{
				Name: v.GetString("name"), Identifier: v.GetString("identifier"), To: v.GetStringSlice("to"),
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "profile %q (%s) added to the onboarding plan\n", p.Name, p.Identifier)
			fmt.Fprintln(cmd.OutOrStdout(), p.ID)
			return nil
		}),
	}
	add.Flags().String("name", "", "name shown to the user")
	add.Flags().String("identifier", "", "the profile's PayloadIdentifier")
	add.Flags().StringArray("to", nil, "devices whose onboarding waits for it, as MDM installs it (TARGET, repeatable; default all)")
	list := &cobra.Command{
		Use:   "list",
		Short: "List the configurations of the onboarding plan",
		Args:  cli.NoArgs,
		RunE: withAdmin(func(c adminapi.Conn, cmd *cobra.Command, _ []string) error {
			ps, err := adminapi.All(cmd.Context(), c, adminapi.ListProfiles, adminapi.ListRequest{})
			if err != nil {
				return err
			}
			if v.GetBool("json") {
				return cli.JSON(cmd.OutOrStdout(), ps)
			}
			rows := [][]string{}
			for _, p := range ps {
				rows = append(rows, []string{p.ID, p.Name, p.Identifier, distributionViewText(p.Distribution)})
			}
			return cli.Table(cmd.OutOrStdout(), []string{"ID", "NAME", "IDENTIFIER", "DISTRIBUTION"}, rows)
		}),
	}
	list.Flags().Bool("json", false, "print JSON")
	dist := &cobra.Command{
		Use:   "distribute ID|IDENTIFIER --to TARGET... [--dry-run]",
		Short: "Replace the devices whose onboarding waits for this profile (as MDM installs it)",
		Long:  "distribute replaces the profile's distribution. " + targetHelp,
		Args:  cli.ExactArgs(1),
		RunE: withAdmin(func(c adminapi.Conn, cmd *cobra.Command, args []string) error {
			if err := needID(args[0], "profile's id or identifier", "profile list"); err != nil {
				return err
			}
			r, err := adminapi.Call(cmd.Context(), c, adminapi.DistributeProfile, adminapi.ProfileDistributionRequest{
				ID: args[0], To: v.GetStringSlice("to"), DryRun: v.GetBool("dry-run"),
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "profile %q: %s, %d device(s)\n", r.Profile.Name, distributionViewText(r.Profile.Distribution), len(r.Devices))
			return printDevices(cmd, r.Devices, false)
		}),
	}
	dist.Flags().StringArray("to", nil, "TARGET (repeatable, comma-separated)")
	dist.Flags().Bool("dry-run", false, "only list the devices it would reach")
	dist.Flags().Bool("json", false, "print the devices as JSON")
	c.AddCommand(add, list, dist)
	return c
}

func onboardingCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "onboarding --device ID",
		Short: "Show a device's onboarding: state, stages, item statuses and its log",
		Args:  cli.NoArgs,
		RunE: withAdmin(func(c adminapi.Conn, cmd *cobra.Command, _ []string) error {
			if v.GetString("device") == "" {
				return fmt.Errorf("--device is required; see `mobileatwork-server devices`")
			}
			o, err := adminapi.Call(cmd.Context(), c, adminapi.DeviceOnboarding, adminapi.IDRequest{ID: v.GetString("device")})
			if err != nil {
				return err
			}
			if v.GetBool("json") {
				return cli.JSON(cmd.OutOrStdout(), o)
			}
			return printOnboarding(cmd, o)
		}),
	}
	cmd.Flags().String("device", "", "device id")
	cmd.Flags().Bool("json", false, "print JSON")
	return cmd
}

// distributionViewText is distributionText of a JSON document's
// distribution.
func distributionViewText(d jsonview.Distribution) string {
	if d.Level != "custom" {
		return d.Level
	}
	texts := make([]string, 0, len(d.Targets))
	for _, t := range d.Targets {
		texts = append(texts, t.Text)
	}
	return "custom: " + strings.Join(texts, ",")
}

// printProgress shows the device's own reading of its stages, so the
// admin reads what the user's page said.
func printProgress(w io.Writer, o jsonview.OnboardingDetail) {
	p := o.Progress
	if p == nil {
		fmt.Fprintln(w, "outcome:    - (not reported by this agent version)")
		if o.Current != "" {
			fmt.Fprintf(w, "current:    %s\n", cli.Printable(o.Current))
		}
		return
	}
	fmt.Fprintf(w, "outcome:    %s\nprogress:   %d of %d stages done, %d settled\n", cli.Printable(p.Outcome), p.StagesDone, p.StagesTotal, p.StagesSettled)
	for _, l := range []struct {
		label string
		names []string
	}{{"installing:", p.NowInstalling}, {"awaiting:", p.WaitingFor}, {"queued:", p.Queued}} {
		if len(l.names) > 0 {
			fmt.Fprintf(w, "%-12s%s\n", l.label, cli.Printable(strings.Join(l.names, ", ")))
		}
	}
	for _, f := range p.Failed {
		fmt.Fprintf(w, "failed:     %s\n", cli.Printable(f.Message))
	}
}

func printOnboarding(cmd *cobra.Command, o jsonview.OnboardingDetail) error {
	w := cmd.OutOrStdout()
	when := func(t *time.Time) string {
		if t == nil || t.IsZero() {
			return "-"
		}
		return t.Local().Format(time.RFC3339)
	}
	fmt.Fprintf(w, "device:     %s\nstate:      %s\nstarted:    %s\ndeadline:   %s\nended:      %s\nreported:   %s\n",
		o.DeviceID, cli.Printable(o.State), when(o.StartedAt), when(o.Deadline), when(o.EndedAt), when(&o.ReceivedAt))
	printProgress(w, o)
	fmt.Fprintln(w)
	rows := [][]string{}
	for i, st := range o.Stages {
		for _, it := range st.Items {
			rows = append(rows, []string{fmt.Sprintf("%d %s", i+1, st.Name), st.Status, it.Name, it.Kind, it.Status, it.Error})
		}
	}
	for _, it := range o.Background {
		rows = append(rows, []string{"background", "", it.Name, it.Kind, it.Status, it.Error})
	}
	if err := cli.Table(w, []string{"STAGE", "STAGE STATUS", "ITEM", "KIND", "STATUS", "ERROR"}, rows); err != nil {
		return err
	}
	if len(o.Log) > 0 {
		fmt.Fprintln(w, "\nlog:")
		for _, l := range o.Log {
			fmt.Fprintf(w, "  %s  %s\n", l.At.Local().Format(time.RFC3339), cli.Printable(l.Message))
		}
	}
	return nil
}
