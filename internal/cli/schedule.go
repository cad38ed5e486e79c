package cli

import (
	"errors"
	"strings"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"

	"github.com/mobileatwork/mobileatwork/protocol/schedule"
)

// ScheduleFlags adds the schedule flags shared by `assign` (server) and
// `schedule preview` (agent), so both read a schedule the same way.
func ScheduleFlags(f *pflag.FlagSet) {
	f.Bool("once", false, "run once at deployment (default)")
	f.String("daily", "", "run every day at HH:MM (24 h)")
	f.String("weekly", "", "run every week at HH:MM on --days")
	f.String("days", "", "weekly: days of week, e.g. mon,wed,fri")
	f.String("tz", "", "local (the device's zone, default) or utc")
	f.String("start", "", "first date YYYY-MM-DD (inclusive)")
	f.String("end", "", "last date YYYY-MM-DD (inclusive)")
}

var errScheduleConflict = errors.New("choose one of --once, --daily HH:MM and --weekly HH:MM")

// ScheduleFromFlags builds and validates the schedule the flags describe.
func ScheduleFromFlags(v *viper.Viper) (schedule.Spec, error) {
	kind, at := schedule.Once, ""
	daily, weekly := v.GetString("daily"), v.GetString("weekly")
	switch {
	case daily != "" && weekly != "":
		return schedule.Spec{}, errScheduleConflict
	case daily != "":
		kind, at = schedule.Daily, daily
	case weekly != "":
		kind, at = schedule.Weekly, weekly
	}
	if kind != schedule.Once && v.GetBool("once") {
		return schedule.Spec{}, errScheduleConflict
	}
	var days []string
	if d := v.GetString("days"); d != "" {
		days = strings.Split(d, ",")
	}
	return schedule.Parse(kind, at, days, v.GetString("tz"), v.GetString("start"), v.GetString("end"))
}
