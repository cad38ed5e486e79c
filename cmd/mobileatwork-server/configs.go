package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mobileatwork/mobileatwork/internal/cli"
	"github.com/mobileatwork/mobileatwork/server/adminapi"
	"github.com/mobileatwork/mobileatwork/server/settings"
	"github.com/mobileatwork/mobileatwork/server/store"
)

const targetHelp = `TARGET is all, none, device:ID, group:NAME (device group), user:EMAIL or
usergroup:NAME; --to is repeatable and takes comma-separated lists. Every
device, user and group named must exist.`

func configCmds() []*cobra.Command {
	list := &cobra.Command{
		Use:   "configs [--kind mobileatwork|script]",
		Short: "List configurations: Mobile@Work ones by priority, then scripts",
		Args:  cli.NoArgs,
		RunE: withAdmin(func(c adminapi.Conn, cmd *cobra.Command, _ []string) error {
			return listConfigs(c, cmd, v.GetString("kind"))
		}),
	}
	list.Flags().String("kind", "", "only mobileatwork or script configurations")
	list.Flags().Bool("json", false, "print JSON")

	c := &cobra.Command{Use: "config", Short: "Mobile@Work and script configurations: add, set, show, distribute, delete, priority, cancel"}
	c.AddCommand(configAddCmd(), configSetCmd(), configShowCmd(), configDistributeCmd(), configDeleteCmd(), configPriorityCmd(), configCancelCmd())
	return []*cobra.Command{list, c, assignCmd()}
}

func listConfigs(c adminapi.Conn, cmd *cobra.Command, kind string) error {
	cs, err := adminapi.All(cmd.Context(), c, adminapi.ListConfigs, adminapi.ConfigListRequest{Kind: kind})
	if err != nil {
		return err
	}
	if v.GetBool("json") {
		return cli.JSON(cmd.OutOrStdout(), cs)
	}
	rows := [][]string{}
	for _, c := range cs {
		prio, what := "-", ""
		if c.Kind == store.KindMobileAtWork {
			prio = strconv.Itoa(c.Priority)
		} else if c.Script != nil {
			what = c.Script.When
		}
		rows = append(rows, []string{c.ID, c.Kind, c.Name, prio, strconv.Itoa(c.Version), c.Distribution.String(), strconv.Itoa(c.DevicesReached), what})
	}
	return cli.Table(cmd.OutOrStdout(), []string{"ID", "KIND", "NAME", "PRIORITY", "VERSION", "DISTRIBUTION", "DEVICES", "RUNS"}, rows)
}

func configAddCmd() *cobra.Command {
	add := &cobra.Command{
		Use:   "add mobileatwork|script --name N [--description D] ...",
		Short: "Add a configuration, distributed to no one; prints its id last",
		Long: `add mobileatwork --name N [--description D] [KEY=VALUE]...
    a Mobile@Work configuration: the agent's settings (unset keys keep their
    documented defaults). It ranks after the existing ones (see config priority).
add script --name N [--description D] --script REF [--input NAME=VALUE]...
    [--once | --daily HH:MM | --weekly HH:MM --days mon,...] [--tz local|utc]
    [--start DATE] [--end DATE] [--on enrollment|login|network|event:NAME]
    [--run-as root|console_user]
    a script configuration: a script of the repository, inputs overridden, run
    once at deployment, on a schedule or on a trigger (--on).

Neither reaches a device until "config distribute". Keys:
` + keyHelp(),
		Args: cobra.MinimumNArgs(1),
		RunE: withAdmin(func(c adminapi.Conn, cmd *cobra.Command, args []string) error {
			cfg, err := adminapi.Call(cmd.Context(), c, adminapi.AddConfig, adminapi.ConfigAddRequest{
				Kind: args[0], Name: v.GetString("name"), Description: v.GetString("description"),
				Settings: args[1:], Script: scriptFields(cmd.Flags()),
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "%s configuration %q added, distributed to no one: `config distribute %s --to TARGET`\n", cfg.Kind, cfg.Name, cfg.ID)
			fmt.Fprintln(cmd.OutOrStdout(), cfg.ID)
			return nil
		}),
	}
	f := add.Flags()
	f.String("name", "", "unique name")
	f.String("description", "", "what it is for")
	scriptFlags(f)
	return add
}

func configSetCmd() *cobra.Command {
	set := &cobra.Command{
		Use:   "set [REF] [--name N] [--description D] [KEY=VALUE]... [script flags]",
		Short: "Edit a configuration, all or nothing; devices get it at their next check-in",
		Long: `set edits the configuration REF (id or name; "default" when REF is left out and
KEY=VALUE pairs follow, the shorthand of earlier releases). Every value is
checked before anything is saved. A change to what devices receive raises the
version; a new name or description alone does not, so renaming never re-runs a
run-once script. A new schedule is given whole (--daily/--weekly with its
--tz, --start, --end), or a trigger with --on. Script flags: --script, --input
NAME=VALUE (added to or replacing the overrides), the schedule flags, --on and
--run-as.

Keys of Mobile@Work configurations:
` + keyHelp(),
		RunE: withAdmin(func(c adminapi.Conn, cmd *cobra.Command, args []string) error {
			ref := store.DefaultConfigID
			if len(args) > 0 && !strings.Contains(args[0], "=") {
				ref, args = args[0], args[1:]
			}
			cfg, err := adminapi.Call(cmd.Context(), c, adminapi.SetConfig, adminapi.ConfigSetRequest{
				Ref: ref, Settings: args, Name: optString(cmd.Flags(), "name"), Description: optString(cmd.Flags(), "description"),
				Script: scriptFields(cmd.Flags()),
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "configuration %q is at version %d\n", cfg.Name, cfg.Version)
			if v.GetBool("json") {
				return cli.JSON(cmd.OutOrStdout(), cfg)
			}
			return nil
		}),
	}
	f := set.Flags()
	f.String("name", "", "new name")
	f.String("description", "", "new description")
	f.Bool("json", false, "print the configuration as JSON")
	scriptFlags(f)
	return set
}

func configShowCmd() *cobra.Command {
	show := &cobra.Command{
		Use:   "show [REF]",
		Short: "A configuration with its status on every device it reaches (default: the default)",
		Args:  cobra.MaximumNArgs(1),
		RunE: withAdmin(func(c adminapi.Conn, cmd *cobra.Command, args []string) error {
			ref := store.DefaultConfigID
			if len(args) == 1 {
				ref = args[0]
			}
			d, err := adminapi.Call(cmd.Context(), c, adminapi.ShowConfig, adminapi.RefRequest{Ref: ref})
			if err != nil {
				return err
			}
			return printConfigDetail(cmd, d)
		}),
	}
	show.Flags().Bool("json", false, "print JSON")
	return show
}

func configDistributeCmd() *cobra.Command {
	dist := &cobra.Command{
		Use:   "distribute REF --to TARGET... [--dry-run]",
		Short: "Replace who a configuration reaches; --dry-run lists the devices and changes nothing",
		Long: `distribute replaces the distribution of the configuration REF. ` + targetHelp + `
"--to none" withdraws it: devices drop it at their next check-in (a
withdrawn script runs no more; results already made are kept).`,
		Args: cli.ExactArgs(1),
		RunE: withAdmin(func(c adminapi.Conn, cmd *cobra.Command, args []string) error {
			dry := v.GetBool("dry-run")
			r, err := adminapi.Call(cmd.Context(), c, adminapi.DistributeConfig, adminapi.DistributeRequest{Ref: args[0], To: v.GetStringSlice("to"), DryRun: dry})
			if err != nil {
				return err
			}
			verb := "now reaches"
			if dry {
				verb = "would reach (dry run, nothing changed)"
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "%q %s %d device(s): %s\n", r.Config.Name, verb, r.Count, r.Config.Distribution.String())
			return printDevices(cmd, r.Devices, false)
		}),
	}
	dist.Flags().StringArray("to", nil, "TARGET (repeatable, comma-separated)")
	dist.Flags().Bool("dry-run", false, "only list the devices it would reach")
	dist.Flags().Bool("json", false, "print the devices as JSON")
	return dist
}

func configDeleteCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "delete REF",
		Short: "Withdraw a configuration from every device and delete it",
		Args:  cli.ExactArgs(1),
		RunE: withAdmin(func(c adminapi.Conn, cmd *cobra.Command, args []string) error {
			cfg, err := adminapi.Call(cmd.Context(), c, adminapi.DeleteConfig, adminapi.RefRequest{Ref: args[0]})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "configuration %q deleted; devices drop it at their next check-in\n", cfg.Name)
			return nil
		}),
	}
}

func configPriorityCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "priority REF N",
		Short: "Rank a Mobile@Work configuration: 1 wins over 2 on a device both reach",
		Args:  cli.ExactArgs(2),
		RunE: withAdmin(func(c adminapi.Conn, cmd *cobra.Command, args []string) error {
			n, err := strconv.Atoi(args[1])
			if err != nil {
				return fmt.Errorf("priority %q is not a whole number", args[1])
			}
			cfg, err := adminapi.Call(cmd.Context(), c, adminapi.PrioritizeConfig, adminapi.PriorityRequest{Ref: args[0], Priority: n})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "%q has priority %d\n", cfg.Name, cfg.Priority)
			return nil
		}),
	}
}

func keyHelp() string {
	var b strings.Builder
	for _, k := range settings.Keys() {
		fmt.Fprintf(&b, "  %-34s %s (default %q)\n", k, settings.Help(k), settings.Defaults()[k])
	}
	return b.String()
}
