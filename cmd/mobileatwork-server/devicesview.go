package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mobileatwork/mobileatwork/internal/cli"
	"github.com/mobileatwork/mobileatwork/server/jsonview"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// printDeviceList lists devices without the brake's column.
func printDeviceList(cmd *cobra.Command, list []store.Device) error {
	out := make([]jsonview.Device, 0, len(list))
	for _, d := range list {
		out = append(out, jsonview.NewDevice(d))
	}
	return printDevices(cmd, out, false)
}

// printDevices lists devices; stops adds the column saying on which the
// brake on scripts holds.
func printDevices(cmd *cobra.Command, list []jsonview.Device, stops bool) error {
	if v.GetBool("json") {
		if list == nil {
			list = []jsonview.Device{}
		}
		return cli.JSON(cmd.OutOrStdout(), list)
	}
	rows := [][]string{}
	head := []string{"ID", "SERIAL", "USER", "AGENT", "GROUPS", "LAST CHECK-IN"}
	if stops {
		head = append(head, "SCRIPTS")
	}
	for _, d := range list {
		last := stampAt(d.LastCheckin)
		if d.Left {
			last += " (left)"
		}
		if d.Retired != nil {
			last += " (retired)"
		}
		row := []string{d.ID, d.Facts.SerialNumber, orDash(d.User), orDash(d.AgentVersion), strings.Join(d.DeviceGroups, ","), last}
		if stops {
			row = append(row, orDash(d.ScriptsStopped))
		}
		rows = append(rows, row)
	}
	return cli.Table(cmd.OutOrStdout(), head, rows)
}

func stampOrDashAt(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return stamp(*t)
}

func printDeviceDetail(cmd *cobra.Command, d jsonview.DeviceDetail) error {
	if v.GetBool("json") {
		return cli.JSON(cmd.OutOrStdout(), d)
	}
	w := cmd.OutOrStdout()
	field(w, "id", d.ID)
	f := d.Facts
	field(w, "serial", orDash(f.SerialNumber))
	field(w, "model", orDash(f.Model))
	field(w, "macOS", strings.TrimSpace(f.OSVersion+" "+f.OSBuild))
	field(w, "name", orDash(f.Hostname))
	field(w, "time zone", orDash(f.TimeZone))
	user := orDash(d.User)
	if d.UserName != "" {
		user += " (" + d.UserName + ")"
	}
	field(w, "user", user)
	field(w, "user groups", orDash(strings.Join(d.UserGroups, ", ")))
	field(w, "device groups", orDash(strings.Join(d.DeviceGroups, ", ")))
	field(w, "enrolled", stampAt(d.EnrolledAt))
	last := stampAt(d.LastCheckin)
	if d.Left {
		last += " (the device left the tenant)"
	}
	field(w, "last check-in", last)
	if d.Retired != nil {
		field(w, "retired", retiredText(d.Retired))
	}
	field(w, "agent", orDash(d.AgentVersion)+"  capabilities: "+orDash(strings.Join(d.Capabilities, ", ")))
	if c := d.InEffect; c != nil {
		field(w, "Mobile@Work config", fmt.Sprintf("%s (%s, version %d, priority %d)", c.Name, c.ID, c.Version, c.Priority))
	} else {
		field(w, "Mobile@Work config", "none distributed to this device: it runs no script")
	}
	if d.ScriptsStopped != "" {
		field(w, "scripts", d.ScriptsStopped)
	} else {
		field(w, "scripts", "enabled")
	}
	field(w, "settings", fmt.Sprintf("check-in every %s min, scripts up to %s s, output up to %s KB", d.Settings["checkin_interval_minutes"], d.Settings["max_execution_seconds"], d.Settings["max_response_kb"]))
	if o := d.Onboarding; o != nil {
		state := o.State
		if o.Outcome != "" && o.Outcome != o.State {
			state += ", " + o.Outcome
		}
		field(w, "onboarding", fmt.Sprintf("%s (%d stages, reported %s)", state, o.Stages, stampAt(o.ReceivedAt)))
	} else {
		field(w, "onboarding", "not reported")
	}
	fmt.Fprintln(w, "\nConfigurations:")
	rows := [][]string{}
	for _, r := range d.Configurations {
		rows = append(rows, []string{r.ID, r.Kind, r.Name, fmt.Sprint(r.Version), r.Status.Status, r.Detail, stampOrDashAt(r.NextRun)})
	}
	if err := cli.Table(w, []string{"ID", "KIND", "NAME", "VERSION", "STATUS", "DETAIL", "NEXT RUN"}, rows); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nPackager apps:")
	if d.InventoryAt == nil {
		fmt.Fprintln(w, "  no inventory yet: the agent sends one at its next check-in")
	} else {
		rows = [][]string{}
		for _, a := range d.PackagerApps {
			rows = append(rows, []string{a.Name, yesNo(a.Installed), orDash(a.InstalledVersion)})
		}
		if err := cli.Table(w, []string{"APP", "INSTALLED", "VERSION"}, rows); err != nil {
			return err
		}
	}
	fmt.Fprintln(w, "\nRecent results:")
	rows = [][]string{}
	for _, r := range d.Results {
		rows = append(rows, []string{stampAt(r.ReceivedAt), r.AssignmentID, fmt.Sprint(r.AssignmentVersion), r.Status, fmt.Sprint(r.ExitCode), r.Stdout + r.Error})
	}
	if err := cli.Table(w, []string{"RECEIVED", "CONFIG", "VERSION", "STATUS", "EXIT", "OUTPUT"}, rows); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nRecent agent warnings and errors:")
	if len(d.RecentLog) == 0 {
		fmt.Fprintln(w, "  none")
	}
	for _, l := range d.RecentLog {
		fmt.Fprintf(w, "  %s %-5s %s\n", stampAt(l.Time), cli.Printable(l.Level), cli.Printable(l.Message))
	}
	return nil
}

// retiredText says when, by whom and why a device was retired.
func retiredText(r *jsonview.Retirement) string {
	if r == nil {
		return "no"
	}
	return fmt.Sprintf("%s by %s: %s", stampAt(r.At), orDash(r.By), r.Reason)
}
