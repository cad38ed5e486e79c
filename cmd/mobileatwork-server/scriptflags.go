package main

import (
	"fmt"

	"github.com/spf13/pflag"

	"github.com/mobileatwork/mobileatwork/internal/cli"
	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/adminapi"
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

var scriptFlagNames = []string{"script", "input", "run-as", "retries", "on", "once", "daily", "weekly", "days", "tz", "start", "end"}

// givenScriptFlag names the first script flag given, or "".
func givenScriptFlag(f *pflag.FlagSet) string {
	for _, n := range scriptFlagNames {
		if f.Changed(n) {
			return n
		}
	}
	return ""
}

// scriptFields are the script flags given, as the API takes them; nil
// when none was: an edit then keeps what is there.
func scriptFields(f *pflag.FlagSet) *adminapi.ScriptFields {
	if givenScriptFlag(f) == "" {
		return nil
	}
	sf := &adminapi.ScriptFields{Script: v.GetString("script"), Inputs: v.GetStringSlice("input"), RunAs: v.GetString("run-as")}
	if f.Changed("retries") {
		n := v.GetInt("retries")
		sf.Retries = &n
	}
	w := cli.ScheduleWords(v)
	w.On = v.GetString("on")
	if w.Given() {
		sf.Schedule = &w
	}
	return sf
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
