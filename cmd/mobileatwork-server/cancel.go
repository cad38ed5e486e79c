package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mobileatwork/mobileatwork/internal/cli"
	"github.com/mobileatwork/mobileatwork/server"
	"github.com/mobileatwork/mobileatwork/server/jsonview"
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
		RunE: withServer(func(s *server.Server, cmd *cobra.Command, args []string) error {
			rep, err := s.Cancel(cmd.Context(), args[0], v.GetStringSlice("device"))
			if err != nil && len(rep.Devices) == 0 {
				return err
			}
			if perr := printCancel(s, cmd, rep); perr != nil {
				return perr
			}
			return err
		}),
	}
	cmd.Flags().StringArray("device", nil, "a device id (repeatable); without it, every device")
	cmd.Flags().Bool("json", false, "print JSON")
	return cmd
}

func printCancel(s *server.Server, cmd *cobra.Command, rep server.CancelReport) error {
	c := rep.Config
	if !rep.Changed() {
		fmt.Fprintf(cmd.ErrOrStderr(), "configuration %q (%s): nothing left to cancel (already cancelled or finished)\n", c.Name, c.ID)
	} else if rep.Everywhere {
		fmt.Fprintf(cmd.ErrOrStderr(), "configuration %q (%s) cancelled on every device: it reaches no device that has not run it\n", c.Name, c.ID)
	} else {
		fmt.Fprintf(cmd.ErrOrStderr(), "configuration %q (%s) cancelled at version %d on the devices given\n", c.Name, c.ID, c.Version)
	}
	if v.GetBool("json") {
		type device struct {
			ID      string          `json:"id"`
			Outcome string          `json:"outcome"`
			Status  jsonview.Status `json:"status"`
		}
		out := struct {
			Config     configJSON `json:"configuration"`
			Everywhere bool       `json:"everywhere"`
			Devices    []device   `json:"devices"`
		}{newConfigJSON(s, cmd, c), rep.Everywhere, []device{}}
		for _, o := range rep.Devices {
			out.Devices = append(out.Devices, device{o.DeviceID, o.Outcome, jsonview.NewStatus(o.Status)})
		}
		return cli.JSON(cmd.OutOrStdout(), out)
	}
	rows := [][]string{}
	for _, o := range rep.Devices {
		rows = append(rows, []string{o.DeviceID, o.Outcome, o.Status.Status, o.Status.Detail})
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
		RunE: withServer(func(s *server.Server, cmd *cobra.Command, _ []string) error {
			rep, err := s.StopScripts(cmd.Context(), v.GetStringSlice("device"), v.GetString("reason"))
			if err != nil && rep.Reason == "" {
				return err
			}
			if perr := printBrake(cmd, rep, true); perr != nil {
				return perr
			}
			return err
		}),
	}
	stop.Flags().StringArray("device", nil, "a device id (repeatable); without it, the whole tenant")
	stop.Flags().String("reason", "", "why, shown on the devices (one line, at most 256 bytes)")
	stop.Flags().Bool("json", false, "print JSON")

	resume := &cobra.Command{
		Use:   "resume-scripts [--device ID]... [--json]",
		Short: "Release the brake of stop-scripts: devices run their scripts again",
		Args:  cli.NoArgs,
		RunE: withServer(func(s *server.Server, cmd *cobra.Command, _ []string) error {
			rep, err := s.ResumeScripts(cmd.Context(), v.GetStringSlice("device"))
			if err != nil && rep.Devices == nil {
				return err
			}
			if perr := printBrake(cmd, rep, false); perr != nil {
				return perr
			}
			return err
		}),
	}
	resume.Flags().StringArray("device", nil, "a device id (repeatable); without it, the whole tenant")
	resume.Flags().Bool("json", false, "print JSON")
	return []*cobra.Command{stop, resume}
}

func printBrake(cmd *cobra.Command, rep server.StopReport, stop bool) error {
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
		return cli.JSON(cmd.OutOrStdout(), struct {
			Stopped       bool     `json:"stopped"`
			Tenant        bool     `json:"tenant"`
			Reason        string   `json:"reason,omitempty"`
			Devices       []string `json:"devices"`
			Unchanged     []string `json:"unchanged,omitempty"`
			TenantStopped bool     `json:"tenant_stopped,omitempty"`
		}{stop, rep.Tenant, rep.Reason, rep.Devices, rep.Unchanged, rep.TenantStopped})
	}
	for _, id := range rep.Devices {
		fmt.Fprintln(cmd.OutOrStdout(), id)
	}
	return nil
}
