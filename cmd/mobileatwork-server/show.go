package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mobileatwork/mobileatwork/internal/cli"
	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server"
	"github.com/mobileatwork/mobileatwork/server/distribution"
	"github.com/mobileatwork/mobileatwork/server/jsonview"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// field prints "label: value" lines, aligned.
func field(w io.Writer, label, value string) { fmt.Fprintf(w, "%-22s %s\n", label+":", value) }

// distributionText is "all", "none" or "custom: TARGET,...".
func distributionText(ts []distribution.Target) string {
	return distributionDocText(jsonview.NewDistribution(ts))
}

func stampOrDash(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return stamp(t)
}

func printDeviceList(cmd *cobra.Command, list []store.Device) error {
	return printDevices(cmd, list, nil)
}

// printDevices lists devices, saying on which the brake on scripts holds
// (stops by device id, "" the tenant's; nil: not shown).
func printDevices(cmd *cobra.Command, list []store.Device, stops map[string]store.ScriptsStop) error {
	docs := make([]jsonview.Device, 0, len(list))
	for _, d := range list {
		jd := jsonview.NewDevice(d)
		jd.ScriptsStopped = server.StoppedReason(stops, d.ID, protocol.Config{})
		docs = append(docs, jd)
	}
	return printDeviceDocs(cmd, docs, stops != nil)
}

// printDeviceDocs lists devices from their documents; withStops adds the
// SCRIPTS column, why scripts are stopped on each.
func printDeviceDocs(cmd *cobra.Command, list []jsonview.Device, withStops bool) error {
	if v.GetBool("json") {
		if list == nil {
			list = []jsonview.Device{}
		}
		return cli.JSON(cmd.OutOrStdout(), list)
	}
	rows := [][]string{}
	head := []string{"ID", "SERIAL", "USER", "AGENT", "GROUPS", "LAST CHECK-IN"}
	if withStops {
		head = append(head, "SCRIPTS")
	}
	for _, d := range list {
		last := stampAt(d.LastCheckin)
		if d.Left {
			last += " (left)"
		}
		row := []string{d.ID, d.Facts.SerialNumber, orDash(d.User), orDash(d.AgentVersion), strings.Join(d.DeviceGroups, ","), last}
		if withStops {
			row = append(row, orDash(d.ScriptsStopped))
		}
		rows = append(rows, row)
	}
	return cli.Table(cmd.OutOrStdout(), head, rows)
}

func printDeviceDetail(cmd *cobra.Command, d server.DeviceDetail) error {
	if v.GetBool("json") {
		return cli.JSON(cmd.OutOrStdout(), jsonview.NewDeviceDetail(d))
	}
	w, dev := cmd.OutOrStdout(), d.Device
	field(w, "id", dev.ID)
	f := dev.Facts
	field(w, "serial", orDash(f.SerialNumber))
	field(w, "model", orDash(f.Model))
	field(w, "macOS", strings.TrimSpace(f.OSVersion+" "+f.OSBuild))
	field(w, "name", orDash(f.Hostname))
	field(w, "time zone", orDash(f.TimeZone))
	user := orDash(dev.User)
	if d.UserName != "" {
		user += " (" + d.UserName + ")"
	}
	field(w, "user", user)
	field(w, "user groups", orDash(strings.Join(d.UserGroups, ", ")))
	field(w, "device groups", orDash(strings.Join(dev.Groups, ", ")))
	field(w, "enrolled", stamp(dev.EnrolledAt))
	last := stamp(dev.LastCheckin)
	if dev.Left {
		last += " (the device left the tenant)"
	}
	field(w, "last check-in", last)
	field(w, "agent", orDash(dev.AgentVersion)+"  capabilities: "+orDash(strings.Join(dev.Capabilities, ", ")))
	if d.InEffect != nil {
		field(w, "Mobile@Work config", fmt.Sprintf("%s (%s, version %d, priority %d)", d.InEffect.Name, d.InEffect.ID, d.InEffect.Version, d.InEffect.Priority))
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
		if o.Progress != nil && o.Progress.Outcome != "" && o.Progress.Outcome != o.State {
			state += ", " + o.Progress.Outcome
		}
		field(w, "onboarding", fmt.Sprintf("%s (%d stages, reported %s)", state, len(o.Stages), stamp(o.ReceivedAt)))
	} else {
		field(w, "onboarding", "not reported")
	}
	fmt.Fprintln(w, "\nConfigurations:")
	rows := [][]string{}
	for _, r := range d.Configurations {
		rows = append(rows, []string{r.Config.ID, r.Config.Kind, r.Config.Name, fmt.Sprint(r.Config.Version), r.Status.Status, r.Status.Detail, stampOrDash(r.Status.NextRun)})
	}
	if err := cli.Table(w, []string{"ID", "KIND", "NAME", "VERSION", "STATUS", "DETAIL", "NEXT RUN"}, rows); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nPackager apps:")
	if d.PackagerApps == nil {
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
		rows = append(rows, []string{stamp(r.ReceivedAt), r.AssignmentID, fmt.Sprint(r.AssignmentVersion), r.Status, fmt.Sprint(r.ExitCode), r.Stdout + r.Error})
	}
	if err := cli.Table(w, []string{"RECEIVED", "CONFIG", "VERSION", "STATUS", "EXIT", "OUTPUT"}, rows); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nRecent agent warnings and errors:")
	if len(dev.RecentLog) == 0 {
		fmt.Fprintln(w, "  none")
	}
	for _, l := range dev.RecentLog {
		fmt.Fprintf(w, "  %s %-5s %s\n", stamp(l.Time), l.Level, l.Message)
	}
	return nil
}
