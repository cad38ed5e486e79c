package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/mobileatwork/mobileatwork/internal/cli"
	"github.com/mobileatwork/mobileatwork/server/adminapi"
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
		RunE: withAdmin(func(c adminapi.Conn, cmd *cobra.Command, _ []string) error {
			req := adminapi.AssignRequest{Name: v.GetString("name"), Description: v.GetString("description"), To: v.GetStringSlice("to")}
			if sf := scriptFields(cmd.Flags()); sf != nil {
				req.Script = *sf
			}
			r, err := adminapi.Call(cmd.Context(), c, adminapi.Assign, req)
			if err != nil {
				return err
			}
			cfg := r.Config
			fmt.Fprintf(cmd.ErrOrStderr(), "script configuration %q (%s) reaches %d device(s): %s\n", cfg.Name, cfg.Script.When, r.Count, cfg.Distribution.String())
			fmt.Fprintln(cmd.OutOrStdout(), cfg.ID)
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
