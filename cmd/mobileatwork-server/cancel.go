package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mobileatwork/mobileatwork/internal/cli"
	"github.com/mobileatwork/mobileatwork/server/adminapi"
)

func configCancelCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cancel REF [--device ID]... [--json]",
		Short: "Withdraw the pending runs of a script configuration and stop the running ones",
		Long: `cancel withdraws the runs of a script configuration that have not happened:
without --device on every device (the configuration expires now, so it reaches
no device that has not run it), with --device ID (repeatable) on those devices
only, at the configuration's current version (a new version reaches them
again). A run not started is cancelled; a running one is stopped by the device
(SIGTERM, then SIGKILL of its process tree) and reported cancelled, within
seconds on an online device, which is asked to check in now. Agents too old to
stop a script let a started run finish. Cancelling again changes nothing.`,
		Args: cli.ExactArgs(1),
		RunE: withAdmin(func(c adminapi.Conn, cmd *cobra.Command, args []string) error {
			rep, err := adminapi.Call(cmd.Context(), c, adminapi.CancelConfig, adminapi.CancelRequest{Ref: args[0], Devices: v.GetStringSlice("device")})
			if err != nil {
				return err
			}
			return printCancel(cmd, rep)
		}),
	}
	cmd.Flags().StringArray("device", nil, "a device id (repeatable); without it, every device")
	cmd.Flags().Bool("json", false, "print JSON")
	return cmd
}

func printCancel(cmd *cobra.Command, rep adminapi.Cancellation) error {
	c := rep.Config
	if !rep.Changed {
		fmt.Fprintf(cmd.ErrOrStderr(), "configuration %q (%s): nothing left to cancel (already cancelled or finished)\n", c.Name, c.ID)
	} else if rep.Everywhere {
		fmt.Fprintf(cmd.ErrOrStderr(), "configuration %q (%s) cancelled on every device: it reaches no device that has not run it\n", c.Name, c.ID)
	} else {
		fmt.Fprintf(cmd.ErrOrStderr(), "configuration %q (%s) cancelled at version %d on the devices given\n", c.Name, c.ID, c.Version)
	}
	if v.GetBool("json") {
		return cli.JSON(cmd.OutOrStdout(), rep)
	}
	rows := [][]string{}
	for _, o := range rep.Devices {
		rows = append(rows, []string{o.ID, o.Outcome, o.Status.Status, o.Status.Detail})
	}
	return cli.Table(cmd.OutOrStdout(), []string{"DEVICE", "OUTCOME", "STATUS", "DETAIL"}, rows)
}

func brakeCmds() []*cobra.Command {
	stop := &cobra.Command{
		Use:   "stop-scripts [--device ID]... [--reason TEXT] [--json]",
		Short: "The brake: devices run no script and stop the one running, until resume-scripts",
		Long: `stop-scripts stops scripts tenant-wide, or with --device ID (repeatable) on
those devices: from their next check-in, which they are asked to make now,
they run nothing and stop the script running (reported cancelled). --reason
is shown on the devices and in device show. Stopping again only replaces the
reason. resume-scripts releases the brake.`,
		Args: cli.NoArgs,
		RunE: withAdmin(func(c adminapi.Conn, cmd *cobra.Command, _ []string) error {
			rep, err := adminapi.Call(cmd.Context(), c, adminapi.StopScripts, adminapi.StopRequest{Devices: v.GetStringSlice("device"), Reason: v.GetString("reason")})
			if err != nil {
				return err
			}
			return printBrake(cmd, rep)
		}),
	}
	stop.Flags().StringArray("device", nil, "a device id (repeatable); without it, the whole tenant")
	stop.Flags().String("reason", "", "why, shown on the devices (one line, at most 256 bytes)")
	stop.Flags().Bool("json", false, "print JSON")

	resume := &cobra.Command{
		Use:   "resume-scripts [--device ID]... [--json]",
		Short: "Release the brake of stop-scripts: devices run their scripts again",
		Args:  cli.NoArgs,
		RunE: withAdmin(func(c adminapi.Conn, cmd *cobra.Command, _ []string) error {
			rep, err := adminapi.Call(cmd.Context(), c, adminapi.ResumeScripts, adminapi.ResumeRequest{Devices: v.GetStringSlice("device")})
			if err != nil {
				return err
			}
			return printBrake(cmd, rep)
		}),
	}
	resume.Flags().StringArray("device", nil, "a device id (repeatable); without it, the whole tenant")
	resume.Flags().Bool("json", false, "print JSON")
	return []*cobra.Command{stop, resume}
}

func printBrake(cmd *cobra.Command, rep adminapi.Brake) error {
	stop := rep.Stopped
	scope := "tenant-wide"
	if !rep.Tenant {
		given := rep.Devices // every device given when the brake changed
		if len(given) == 0 {
			given = rep.Unchanged
		}
		scope = "on " + strings.Join(given, ", ")
	}
	w := cmd.ErrOrStderr()
	switch {
	case stop && len(rep.Devices) == 0:
		fmt.Fprintf(w, "scripts were already stopped %s (%s): nothing changed\n", scope, rep.Reason)
	case stop:
		fmt.Fprintf(w, "scripts stopped %s: %s; %d device(s) asked to check in now\n", scope, rep.Reason, len(rep.Devices))
	case len(rep.Devices) == 0:
		fmt.Fprintf(w, "scripts were not stopped %s: nothing changed\n", scope)
	default:
		fmt.Fprintf(w, "scripts resumed %s; %d device(s) asked to check in now\n", scope, len(rep.Devices))
	}
	if rep.TenantStopped {
		fmt.Fprintln(w, "warning: scripts are still stopped tenant-wide: these devices run nothing until `resume-scripts` without --device")
	}
	if v.GetBool("json") {
		return cli.JSON(cmd.OutOrStdout(), rep)
	}
	for _, id := range rep.Devices {
		fmt.Fprintln(cmd.OutOrStdout(), id)
	}
	return nil
}
