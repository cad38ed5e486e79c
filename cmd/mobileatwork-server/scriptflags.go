package main

import (
	"fmt"

	"github.com/spf13/pflag"

	"github.com/mobileatwork/mobileatwork/internal/cli"
	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/protocol/schedule"
	"github.com/mobileatwork/mobileatwork/server"
)

// scriptFlags are the flags of a script configuration.
func scriptFlags(f *pflag.FlagSet) {
	f.String("script", "", "the script: id or name (see `scripts`)")
	f.StringArray("input", nil, "NAME=VALUE override of a declared input (repeatable); values may hold {$variables}")
	f.String("run-as", "", "root (default) or console_user")
	retriesFlag(f)
	cli.ScheduleFlags(f)
	f.String("on", "", "run on a trigger instead of a schedule: enrollment, login, network or event:NAME")
}

// retriesFlag is --retries of script configurations and `run`.
func retriesFlag(f *pflag.FlagSet) {
	f.Int("retries", 0, fmt.Sprintf("run a failed, timed-out or errored run again up to N more times, with backoff (0 to %d)", protocol.MaxRetries))
}

var (
	scheduleFlagNames = []string{"once", "daily", "weekly", "days", "tz", "start", "end"}
	scriptFlagNames   = append([]string{"script", "input", "run-as", "retries", "on"}, scheduleFlagNames...)
)

// givenScriptFlag names the first script flag given, or "".
func givenScriptFlag(f *pflag.FlagSet) string {
	for _, n := range scriptFlagNames {
		if f.Changed(n) {
			return n
		}
	}
	return ""
}

func noScriptFlags(f *pflag.FlagSet) error {
	if n := givenScriptFlag(f); n != "" {
		return fmt.Errorf("--%s belongs to script configurations, not Mobile@Work ones", n)
	}
	return nil
}

// scriptRequest reads the script flags that were given.
func scriptRequest(f *pflag.FlagSet) (server.ScriptRequest, error) {
	req := server.ScriptRequest{Script: v.GetString("script"), Inputs: v.GetStringSlice("input"), RunAs: v.GetString("run-as")}
	if f.Changed("retries") {
		n := v.GetInt("retries")
		req.Retries = &n
	}
	if f.Changed("on") {
		spec, err := triggerFromFlags(f)
		if err != nil {
			return req, err
		}
		req.Schedule = &spec
		return req, nil
	}
	for _, n := range scheduleFlagNames {
		if f.Changed(n) {
			spec, err := cli.ScheduleFromFlags(v)
			if err != nil {
				return req, err
			}
			req.Schedule = &spec
			break
		}
	}
	return req, nil
}

// optString is the flag's value when it was given, nil otherwise: edits
// change only what they name.
func optString(f *pflag.FlagSet, name string) *string {
	if !f.Changed(name) {
		return nil
	}
	val := v.GetString(name)
	return &val
}

// triggerFromFlags reads --on, which replaces the schedule flags: a
// trigger has no time, days, zone or dates.
func triggerFromFlags(f *pflag.FlagSet) (schedule.Spec, error) {
	for _, n := range scheduleFlagNames {
		if f.Changed(n) {
			return schedule.Spec{}, fmt.Errorf("--on runs on a trigger and takes no --%s: give either --on or schedule flags", n)
		}
	}
	return schedule.ParseTrigger(v.GetString("on"))
}
