package main

import (
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/spf13/cobra"

	"github.com/mobileatwork/mobileatwork/internal/cli"
	"github.com/mobileatwork/mobileatwork/server"
	"github.com/mobileatwork/mobileatwork/server/distribution"
	"github.com/mobileatwork/mobileatwork/server/jsonview"
	"github.com/mobileatwork/mobileatwork/server/settings"
	"github.com/mobileatwork/mobileatwork/server/store"
)

func mergedSettings(c store.Configuration) map[string]string { return settings.Merge(c.Settings) }

// field prints "label: value" lines, aligned.
func field(w io.Writer, label, value string) { fmt.Fprintf(w, "%-22s %s\n", label+":", value) }

func printConfigDetail(cmd *cobra.Command, d server.ConfigDetail) error {
	if v.GetBool("json") {
		return cli.JSON(cmd.OutOrStdout(), jsonview.NewConfigDetail(d))
	}
	w, c := cmd.OutOrStdout(), d.Config
	field(w, "id", c.ID)
	field(w, "name", c.Name)
	field(w, "kind", c.Kind)
	if c.Description != "" {
		field(w, "description", c.Description)
	}
	field(w, "version", fmt.Sprint(c.Version))
	if c.Kind == store.KindMobileAtWork {
		field(w, "priority", fmt.Sprint(c.Priority))
	}
	field(w, "distribution", distributionText(c.Targets))
	field(w, "updated", stamp(c.UpdatedAt))
	if d.Script != nil {
		field(w, "script", fmt.Sprintf("%s (%s, version %d, sha256 %s)", d.Script.Name, d.Script.ID, d.Script.Version, d.Script.SHA256[:12]))
		field(w, "runs", c.Script.Schedule.String()+" as "+c.Script.RunAs)
		if c.Script.Retries > 0 {
			field(w, "retries", fmt.Sprintf("%d, with backoff", c.Script.Retries))
		}
		names := make([]string, 0, len(c.Script.Inputs))
		for k := range c.Script.Inputs {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			field(w, "input "+k, c.Script.Inputs[k])
		}
	}
	if d.Settings != nil {
		for _, k := range settings.Keys() {
			mark := ""
			if _, set := c.Settings[k]; set {
				mark = "  (set)"
			}
			field(w, k, d.Settings[k]+mark)
		}
	}
	sm := d.Summary
	summary := fmt.Sprintf("%d reached: %d succeeded, %d failed, %d pending, %d superseded", sm.Reached, sm.Succeeded, sm.Failed, sm.Pending, sm.Superseded)
	if sm.Cancelled > 0 {
		summary += fmt.Sprintf(", %d cancelled", sm.Cancelled)
	}
	field(w, "devices", summary)
	fmt.Fprintln(w)
	rows := [][]string{}
	for _, r := range d.Devices {
		rows = append(rows, []string{r.Device.ID, r.Device.Facts.SerialNumber, orDash(r.Device.User), r.Status.Status, r.Status.Detail, stampOrDash(r.Status.NextRun), stampOrDash(r.Status.UpdatedAt)})
	}
	return cli.Table(w, []string{"DEVICE", "SERIAL", "USER", "STATUS", "DETAIL", "NEXT RUN", "SINCE"}, rows)
}

// distributionText is "all", "none" or "custom: TARGET,...".
func distributionText(ts []distribution.Target) string {
	if l := distribution.Level(ts); l != "custom" {
		return l
	}
	return "custom: " + distribution.String(ts)
}

func stampOrDash(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return stamp(t)
}
