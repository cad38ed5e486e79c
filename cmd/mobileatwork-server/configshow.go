package main

import (
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/spf13/cobra"

	"github.com/mobileatwork/mobileatwork/internal/cli"
	"github.com/mobileatwork/mobileatwork/server/jsonview"
	"github.com/mobileatwork/mobileatwork/server/settings"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// printConfigDetail prints `config show` from its document.
func printConfigDetail(cmd *cobra.Command, d jsonview.ConfigDetail) error {
	if v.GetBool("json") {
		return cli.JSON(cmd.OutOrStdout(), d)
	}
	w := cmd.OutOrStdout()
	field(w, "id", d.ID)
	field(w, "name", d.Name)
	field(w, "kind", d.Kind)
	if d.Description != "" {
		field(w, "description", d.Description)
	}
	field(w, "version", fmt.Sprint(d.Version))
	if d.Kind == store.KindMobileAtWork {
		field(w, "priority", fmt.Sprint(d.Priority))
	}
	field(w, "distribution", distributionDocText(d.Distribution))
	field(w, "updated", stampAt(d.UpdatedAt))
	if sc := d.Script; sc != nil {
		sha := sc.ScriptSHA256
		if len(sha) > 12 {
			sha = sha[:12]
		}
		field(w, "script", fmt.Sprintf("%s (%s, version %d, sha256 %s)", sc.ScriptName, sc.ScriptID, sc.ScriptVersion, sha))
		field(w, "runs", sc.When+" as "+sc.RunAs)
		if sc.Retries > 0 {
			field(w, "retries", fmt.Sprintf("%d, with backoff", sc.Retries))
		}
		names := make([]string, 0, len(sc.Inputs))
		for k := range sc.Inputs {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			field(w, "input "+k, sc.Inputs[k])
		}
	}
	if d.Settings != nil {
		for _, k := range settings.Keys() {
			mark := ""
			if slices.Contains(d.SettingsSet, k) {
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
		rows = append(rows, []string{r.Device.ID, r.Device.Serial, orDash(r.Device.User), r.Status.Status, r.Status.Detail, stampAtOrDash(r.NextRun), stampAtOrDash(r.UpdatedAt)})
	}
	return cli.Table(w, []string{"DEVICE", "SERIAL", "USER", "STATUS", "DETAIL", "NEXT RUN", "SINCE"}, rows)
}

// distributionDocText is "all", "none" or "custom: TARGET,...".
func distributionDocText(d jsonview.Distribution) string {
	if d.Level != "custom" {
		return d.Level
	}
	return "custom: " + d.String()
}

func stampAtOrDash(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return stamp(*t)
}
