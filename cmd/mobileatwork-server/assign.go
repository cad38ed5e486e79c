package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/mobileatwork/mobileatwork/internal/cli"
	"github.com/mobileatwork/mobileatwork/server"
	"github.com/mobileatwork/mobileatwork/server/distribution"
	"github.com/mobileatwork/mobileatwork/server/jsonview"
	"github.com/mobileatwork/mobileatwork/server/store"
)

func assignCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "assign --script REF --to TARGET... [schedule] [--input NAME=VALUE]... [--name N]",
		Short: "Shorthand: add a script configuration and distribute it; prints its id last",
		Long: `assign is "config add script" followed by "config distribute": it adds a
script configuration (named --name, or after the script and its targets) and
distributes it. ` + targetHelp + `

Schedule: --once (default: at deployment), or --daily HH:MM, or
--weekly HH:MM --days mon,tue,..., with --tz local|utc (local is the device's
zone), --start YYYY-MM-DD and --end YYYY-MM-DD (inclusive). Agents that do not
announce the "schedule" capability run a recurring script once. Or a trigger
instead of a schedule: --on enrollment|login|network|event:NAME (agents that
do not announce "triggers" are not sent it, and show it in error).

--input NAME=VALUE overrides a declared input; values may hold {$variables}
resolved per device. --run-as root|console_user. A device runs it only while a
Mobile@Work configuration reaches it too.`,
		Args: cli.NoArgs,
		RunE: withServer(func(s *server.Server, cmd *cobra.Command, _ []string) error {
			req, err := scriptRequest(cmd.Flags())
			if err != nil {
				return err
			}
			c, r, err := s.Assign(cmd.Context(), v.GetString("name"), v.GetString("description"), req, v.GetStringSlice("to"))
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "script configuration %q (%s) reaches %d device(s): %s\n", c.Name, c.Script.Schedule.String(), len(r.Devices), distribution.String(r.Config.Targets))
			fmt.Fprintln(cmd.OutOrStdout(), c.ID)
			return nil
		}),
	}
	f := cmd.Flags()
	f.String("name", "", "name of the configuration (default: the script's name and targets)")
	f.String("description", "", "what it is for")
	f.StringArray("to", nil, "TARGET (repeatable, comma-separated)")
	scriptFlags(f)
	return cmd
}

// configJSON is one configuration as --json prints it.
type configJSON = jsonview.Config

func newConfigJSON(s *server.Server, cmd *cobra.Command, c store.Configuration) configJSON {
	var sc *store.Script
	var settings map[string]string
	if c.Kind == store.KindScript {
		if got, err := s.Store.Script(cmd.Context(), c.Script.ScriptID); err == nil {
			sc = &got
		}
	} else {
		settings = mergedSettings(c)
	}
	return jsonview.NewConfig(c, settings, sc)
}
