package cli

import (
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

// ScheduleWords are the schedule flags' words, as schedule.Words reads them.
func ScheduleWords(v *viper.Viper) schedule.Words {
	return schedule.Words{
		Once: v.GetBool("once"), Daily: v.GetString("daily"), Weekly: v.GetString("weekly"), Days: v.GetString("days"),
		TZ: v.GetString("tz"), Start: v.GetString("start"), End: v.GetString("end"),
	}
}

// ScheduleFromFlags builds and validates the schedule the flags describe.
func ScheduleFromFlags(v *viper.Viper) (schedule.Spec, error) {
	return ScheduleWords(v).Spec()
}
