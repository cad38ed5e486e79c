package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"
	"go.uber.org/zap"

	"github.com/mobileatwork/mobileatwork/agent"
	"github.com/mobileatwork/mobileatwork/agent/appcatalog"
	"github.com/mobileatwork/mobileatwork/agent/installer"
	"github.com/mobileatwork/mobileatwork/internal/cli"
	"github.com/mobileatwork/mobileatwork/internal/logging"
	"github.com/mobileatwork/mobileatwork/internal/version"
	"github.com/mobileatwork/mobileatwork/protocol"
)

var v = viper.New()

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "mobileatwork",
		Short: "Mobile@Work for macOS agent",
		Long: `mobileatwork enrolls this Mac with its Mobile@Work tenant, checks in at the
configured interval, runs the scripts the tenant assigns (verified: signed and
encrypted with the tenant's certificate) and reports results and inventory.`,
		Version: version.Version,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			cli.Bind(v, cmd)
			if f := v.GetString("config"); f != "" {
				v.SetConfigFile(f)
				if err := v.ReadInConfig(); err != nil {
					return fmt.Errorf("read --config %s: %w", f, err)
				}
			}
			return nil
		},
	}
	pf := root.PersistentFlags()
	pf.String("state-dir", agent.DefaultStateDir, "agent state directory (env MAW_STATE_DIR)")
	pf.String("config", "", "configuration file (YAML, JSON or TOML); keys are flag names")
	pf.String("log-level", "info", "debug, info, warn or error")
	root.AddCommand(enrollCmd(), checkinCmd(), runCmd(), statusCmd(), versionCmd(), inventoryCmd(), scheduleCmd())
	root.AddCommand(catalogCmd())
	root.AddCommand(lifecycleCmds()...)
	root.AddCommand(onboardingCmd(), uiCmd())
	root.AddCommand(eventCmd(), registerCmd())
	return root
}

func logger(file string) (*zap.Logger, func(), error) {
	return logging.New(logging.Options{Console: true, Level: v.GetString("log-level"), File: file})
}

// agentLogger is logger that also keeps the latest warnings and errors, for
// the agent of `run` and `checkin` to send with its check-ins.
func agentLogger(file string) (*zap.Logger, *logging.Recent, func(), error) {
	return agentLoggerTo(file, true)
}

// agentLoggerTo is agentLogger with or without the lines on stderr.
func agentLoggerTo(file string, console bool) (*zap.Logger, *logging.Recent, func(), error) {
	r := logging.NewAgentRecent()
	l, sync, err := logging.New(logging.Options{Console: console, Level: v.GetString("log-level"), File: file, Recent: r})
	return l, r, sync, err
}

// agentOptions wires an agent of this build to the --state-dir.
func agentOptions(log *zap.Logger) agent.Options {
	return agent.Options{
		StateDir: v.GetString("state-dir"), Log: log, Version: version.Version,
		Capabilities: version.Capabilities(),
		Facts:        func() protocol.Facts { return agent.DeviceFacts(version.Version) },
	}
}

func newAgent(log *zap.Logger) (*agent.Agent, error) { return agent.New(agentOptions(log)) }

// checkinAgent is an agent that acts on its check-ins: the receivers, in
// the order they run (scripts first, so what is due never waits; inventory
// after them, to see what they changed; the catalog before onboarding, so
// that Apps@Work, which onboarding's end may open, shows this check-in's
// offers), and, for the daemon (withCatalog), the Apps@Work page it serves
// to the console user right after registration, before onboarding or MDM
// enrollment end.
func checkinAgent(o agent.Options, withCatalog bool) (*agent.Agent, error) {
	a, err := agent.New(o)
	if err != nil {
		return nil, err
	}
	a.RegisterReceiver(agent.ScriptsReceiver(a))
	a.RegisterReceiver(agent.InventoryReceiver(a))
	a.RegisterReceiver(agent.CatalogReceiver(a))
	a.RegisterReceiver(agent.OnboardingReceiver(a))
	if withCatalog {
		a.RegisterCatalogPage(appcatalog.New(appcatalog.Options{
			Source: a, Installer: installer.Default(""), StateDir: a.StateDir(), Log: o.Log.Named("catalog"),
		}))
	}
	return a, nil
}

func checkinCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "checkin",
		Short: "Check in now, in the foreground: fetch, run what is due, report",
		Long: `checkin runs one cycle now: deliver queued results, check in, run the scripts
that are due, deliver their results. It exits non-zero when the server cannot be
reached; results then stay queued and go out at the next check-in.`,
		Args: cli.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, recent, sync, err := agentLogger("")
			if err != nil {
				return err
			}
			defer sync()
			o := agentOptions(log)
			o.RecentLog = recent
			a, err := checkinAgent(o, false)
			if err != nil {
				return err
			}
			defer a.Close()
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return a.Cycle(ctx)
		},
	}
}

func runCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run the agent daemon (what launchd starts)",
		Args:  cli.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			interval, err := agent.ParseInterval(v.GetString("interval"))
			if err != nil {
				return err
			}
			// launchd's stdout and stderr files are never rotated: the
			// daemon writes there only when run by hand in a terminal.
			log, recent, sync, err := agentLoggerTo(v.GetString("log-file"), logging.Interactive(os.Stderr))
			if err != nil {
				return err
			}
			defer sync()
			enrollAtStart(log)
			if !awaitRegistration(log) {
				return nil
			}
			o := agentOptions(log)
			o.RecentLog = recent
			o.Interval = interval
			a, err := checkinAgent(o, true)
			if err != nil {
				return err
			}
			defer a.Close()
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return a.Daemon(ctx)
		},
	}
	cmd.Flags().String("log-file", agent.DefaultLogFile, "JSON log file (rotated)")
	cmd.Flags().String("interval", "0", "override the tenant's check-in interval, e.g. 30s, at least 10s (troubleshooting)")
	return cmd
}

func versionCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print version, commit and capabilities",
		Args:  cli.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := map[string]any{"version": version.Version, "commit": version.Commit, "capabilities": version.Capabilities()}
			if v.GetBool("json") {
				return cli.JSON(cmd.OutOrStdout(), out)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "mobileatwork %s (%s)\ncapabilities: %s\n", version.Version, version.Commit, strings.Join(version.Capabilities(), ", "))
			return nil
		},
	}
	cmd.Flags().Bool("json", false, "print JSON")
	return cmd
}

func scheduleCmd() *cobra.Command {
	s := &cobra.Command{Use: "schedule", Short: "Preview when a schedule runs, in this device's zone"}
	preview := &cobra.Command{
		Use:   "preview [schedule flags] --from RFC3339 --count N",
		Short: "Print the next run instants of a schedule in this device's zone",
		Long: `preview prints the next --count run instants (RFC 3339 with offset) of the
schedule the flags describe, from --from (default now), in the device's zone
(the TZ environment variable is honoured). Flags as for mobileatwork-server assign.`,
		Args: cli.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			spec, err := cli.ScheduleFromFlags(v)
			if err != nil {
				return err
			}
			from := time.Now()
			if f := v.GetString("from"); f != "" {
				if from, err = time.Parse(time.RFC3339, f); err != nil {
					return fmt.Errorf("--from %q: want RFC 3339, e.g. 2027-01-01T00:00:00Z", f)
				}
			}
			n := v.GetInt("count")
			if n < 1 || n > 1000 {
				return fmt.Errorf("--count %d: want 1 to 1000", n)
			}
			loc := time.Local
			times := spec.Preview(from, n, loc)
			if v.GetBool("json") {
				out := make([]string, len(times))
				for i, t := range times {
					out[i] = t.In(loc).Format(time.RFC3339)
				}
				return cli.JSON(cmd.OutOrStdout(), map[string]any{"schedule": spec, "description": spec.String(), "runs": out})
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "%s\n", spec.String())
			for _, t := range times {
				fmt.Fprintln(cmd.OutOrStdout(), t.In(loc).Format(time.RFC3339))
			}
			return nil
		},
	}
	cli.ScheduleFlags(preview.Flags())
	preview.Flags().String("from", "", "start instant, RFC 3339 (default now)")
	preview.Flags().Int("count", 5, "how many instants")
	preview.Flags().Bool("json", false, "print JSON")
	s.AddCommand(preview)
	return s
}
