package main

import (
	"context"
	"fmt"
	"math"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/mobileatwork/mobileatwork/internal/cli"
	"github.com/mobileatwork/mobileatwork/internal/logging"
	"github.com/mobileatwork/mobileatwork/internal/version"
	"github.com/mobileatwork/mobileatwork/server"
)

var v = viper.New()

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "mobileatwork-server",
		Short: "Reference tenant server for Mobile@Work for macOS",
		Long: `mobileatwork-server holds one tenant in a data directory: its CA and signing
keys, files, and the database (SQLite in the directory, or PostgreSQL chosen
at init with --store postgres) of enrolled devices, users and groups, the
script repository, configurations and their results.

The administrator works with configurations: Mobile@Work configurations carry
the agent's settings, script configurations run a script of the repository
once or on a schedule. Each is distributed to everyone, no one, or any mix of
users, user groups, devices and device groups. The "default" Mobile@Work
configuration exists from init but reaches no one until it is distributed; a
device that no Mobile@Work configuration reaches runs no script.

"serve" runs the device API over TLS; every other command administers the
tenant and works while "serve" runs.`,
		Version: version.Version,
		PersistentPreRun: func(cmd *cobra.Command, _ []string) {
			cli.Bind(v, cmd)
			_ = v.BindEnv("data", "MAW_SERVER_DATA")
			bindRemoteEnv()
		},
	}
	root.PersistentFlags().String("data", "./maw-data", "tenant data directory (env MAW_SERVER_DATA)")
	storeFlags(root)
	remoteFlags(root)
	root.AddCommand(initCmd(), serveCmd())
	root.AddCommand(tokenCmds()...)
	root.AddCommand(packageCmd(), tenantCmd(), linkCmd())
	root.AddCommand(configCmds()...)
	root.AddCommand(scriptCmds()...)
	root.AddCommand(userCmds()...)
	root.AddCommand(deviceCmds()...)
	root.AddCommand(resultsCmd(), runCmd())
	root.AddCommand(brakeCmds()...)
	root.AddCommand(backupCmds()...)
	root.AddCommand(appCmd(), inventoryCmd())
	root.AddCommand(profileCmd(), onboardingCmd())
	root.AddCommand(adminCmd(), auditCmd())
	root.AddCommand(openAPICmd())
	root.AddCommand(pkiCmd(), doctorCmd())
	return root
}

func withServer(fn func(*server.Server, *cobra.Command, []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		o, err := storeOptions(cmd)
		if err != nil {
			return err
		}
		s, err := server.OpenWith(v.GetString("data"), o)
		if err != nil {
			return err
		}
		defer s.Close()
		// Changes made here are recorded in the audit log as the host's user.
		cmd.SetContext(server.WithActor(cmd.Context(), localActor()))
		return fn(s, cmd, args)
	}
}

func initCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Create the tenant: CA, signing certificate, TLS certificate and database",
		Long: `init creates a tenant in the data directory: a tenant CA (issues the server's TLS
certificate and every device certificate), a tenant signing certificate (signs
check-in responses, key envelopes and scripts), the server TLS certificate for
127.0.0.1, ::1, localhost and each --hostname, and the database. It refuses to
overwrite an existing tenant.

With --store postgres the database is PostgreSQL: give the DSN of an empty
database (or schema, through search_path) with --dsn-file FILE or MAW_DSN.
init records the choice and the DSN in store.json (0600) in the data
directory, so every later command opens the same database without flags.`,
		Args: cli.NoArgs,
		RunE: hostOnly(func(cmd *cobra.Command, _ []string) error {
			o, err := storeOptions(cmd)
			if err != nil {
				return err
			}
			s, err := server.InitWith(v.GetString("data"), v.GetString("tenant"), v.GetStringSlice("hostname"), o)
			if err != nil {
				return err
			}
			defer s.Close()
			pin := s.Tenant.CAPin()
			fmt.Fprintf(cmd.ErrOrStderr(), "tenant %q created in %s\nCA pin (sha256): %x\n", s.Tenant.Name, v.GetString("data"), pin)
			fmt.Fprintln(cmd.ErrOrStderr(), "the default Mobile@Work configuration reaches no device yet: `config distribute default --to all` when ready")
			return nil
		}),
	}
	cmd.Flags().String("tenant", "Mobile@Work tenant", "tenant name, shown in certificates")
	cmd.Flags().StringSlice("hostname", nil, "extra DNS name or IP of the server's TLS certificate (repeatable)")
	return cmd
}

func serveCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the device API over TLS until SIGINT or SIGTERM",
		Args:  cli.NoArgs,
		RunE: localOnly(func(s *server.Server, cmd *cobra.Command, _ []string) error {
			if s.MaxInFlight = v.GetInt("max-in-flight"); s.MaxInFlight < 1 {
				return fmt.Errorf("--max-in-flight must be at least 1, not %d", s.MaxInFlight)
			}
			days := v.GetInt("results-retention")
			if days < 0 {
				return fmt.Errorf("--results-retention must be 0 (keep forever) or a number of days, not %d", days)
			}
			s.ResultsRetention = time.Duration(days) * 24 * time.Hour
			if s.Wake.MaxWaiters = v.GetInt("max-wake-waiters"); s.Wake.MaxWaiters < 1 {
				return fmt.Errorf("--max-wake-waiters must be at least 1, not %d", s.Wake.MaxWaiters)
			}
			switch rate := v.GetFloat64("enroll-rate"); {
			case rate < 0 || math.IsNaN(rate):
				return fmt.Errorf("--enroll-rate must be 0 (no limit) or a number of attempts a minute, not %v", rate)
			case rate == 0:
				s.EnrollLimit.PerMinute = -1
			default:
				s.EnrollLimit.PerMinute = rate
			}
			log, sync, err := logging.New(logging.Options{Console: true, Level: v.GetString("log-level"), File: v.GetString("log-file")})
			if err != nil {
				return err
			}
			defer sync()
			s.Log = log
			stopProfile, err := cli.CPUProfile(v.GetString("cpu-profile"))
			if err != nil {
				return err
			}
			defer stopProfile()
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			ctx, stopEnroll, err := serveEnroll(ctx, s)
			if err != nil {
				return err
			}
			defer stopEnroll()
			ctx, stopAdmin, err := serveAdmin(ctx, s)
			if err != nil {
				return err
			}
			defer stopAdmin()
			return s.Serve(ctx, v.GetString("listen"), func(a net.Addr) {
				log.Sugar().Infof("serving the device API on https://%s", a)
				if f := v.GetString("addr-file"); f != "" {
					// Lets scripts use --listen 127.0.0.1:0 and learn the port.
					if err := os.WriteFile(f, []byte(a.String()+"\n"), 0o644); err != nil {
						log.Sugar().Errorf("write --addr-file: %v", err)
					}
				}
			})
		}),
	}
	cmd.Flags().String("listen", "127.0.0.1:8443", "address to listen on (port 0 picks a free port)")
	cmd.Flags().String("addr-file", "", "write the address actually bound to this file once listening")
	cmd.Flags().String("log-level", "info", "debug, info, warn or error")
	cmd.Flags().String("log-file", "", "also write JSON logs to this file")
	cmd.Flags().Int("results-retention", 0, "delete results received more than this many days ago, at start and hourly (0: keep forever)")
	cmd.Flags().Int("max-in-flight", server.DefaultMaxInFlight, "device requests served at once; those over it are answered 503 with Retry-After")
	cmd.Flags().String("cpu-profile", "", "write a CPU profile of the server to this file until it stops (for go tool pprof)")
	cmd.Flags().Float64("enroll-rate", server.DefaultEnrollPerMinute, fmt.Sprintf("enrollment attempts allowed to each source address a minute, after a burst of %d; those over it are answered 429 with Retry-After (0: no limit)", server.DefaultEnrollBurst))
	cmd.Flags().Int("max-wake-waiters", server.DefaultMaxWakeWaiters, "wake requests held at once (idle agents, apart from --max-in-flight); those over it are answered 503 with Retry-After")
	enrollFlags(cmd)
	adminListenFlags(cmd)
	return cmd
}
