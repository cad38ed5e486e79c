package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/mobileatwork/mobileatwork/internal/cli"
	"github.com/mobileatwork/mobileatwork/internal/logging"
	"github.com/mobileatwork/mobileatwork/internal/version"
	"github.com/mobileatwork/mobileatwork/server"
	"github.com/mobileatwork/mobileatwork/server/settings"
	"github.com/mobileatwork/mobileatwork/server/store"
)

var v = viper.New()

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "mobileatwork-server",
		Short: "Reference tenant server for Mobile@Work for macOS",
		Long: `mobileatwork-server holds one tenant: its CA and signing keys, enrolled devices,
scripts, assignments, results and configuration, in a data directory (SQLite).
"serve" runs the device API over TLS; every other command administers the tenant
and works while "serve" runs.`,
		Version: version.Version,
		PersistentPreRun: func(cmd *cobra.Command, _ []string) {
			cli.Bind(v, cmd)
			_ = v.BindEnv("data", "MAW_SERVER_DATA")
		},
	}
	root.PersistentFlags().String("data", "./maw-data", "tenant data directory (env MAW_SERVER_DATA)")
	root.AddCommand(initCmd(), serveCmd(), tokenCmd(), configCmd(), scriptAddCmd(), scriptsCmd(),
		assignCmd(), devicesCmd(), deviceGroupsCmd(), resultsCmd())
	root.AddCommand(appCmd(), inventoryCmd())
	root.AddCommand(profileCmd(), onboardingCmd())
	return root
}

func open() (*server.Server, error) { return server.Open(v.GetString("data")) }

func withServer(fn func(*server.Server, *cobra.Command, []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		s, err := open()
		if err != nil {
			return err
		}
		defer s.Close()
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
overwrite an existing tenant.`,
		Args: cli.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := server.Init(v.GetString("data"), v.GetString("tenant"), v.GetStringSlice("hostname"))
			if err != nil {
				return err
			}
			defer s.Close()
			pin := s.Tenant.CAPin()
			fmt.Fprintf(cmd.ErrOrStderr(), "tenant %q created in %s\nCA pin (sha256): %x\n", s.Tenant.Name, v.GetString("data"), pin)
			return nil
		},
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
		RunE: withServer(func(s *server.Server, cmd *cobra.Command, _ []string) error {
			log, sync, err := logging.New(logging.Options{Console: true, Level: v.GetString("log-level"), File: v.GetString("log-file")})
			if err != nil {
				return err
			}
			defer sync()
			s.Log = log
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
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
	return cmd
}

func tokenCmd() *cobra.Command {
	tok := &cobra.Command{Use: "token", Short: "Enrollment tokens"}
	create := &cobra.Command{
		Use:   "create",
		Short: "Create an enrollment token; prints it alone on the last line",
		Long: `create makes a one-time (or --uses N) enrollment token valid for --ttl. The token
carries a secret and the SHA-256 pin of the tenant CA, so the agent can check the
server before it sends anything. Only a hash of the secret is stored.`,
		Args: cli.NoArgs,
		RunE: withServer(func(s *server.Server, cmd *cobra.Command, _ []string) error {
			t, err := s.CreateToken(cmd.Context(), v.GetString("user"), v.GetInt("uses"), v.GetDuration("ttl"))
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), t)
			return nil
		}),
	}
	create.Flags().String("user", "", "email of the user the device belongs to")
	create.Flags().Int("uses", 1, "how many devices may enroll with it")
	create.Flags().Duration("ttl", 24*time.Hour, "how long it stays valid")
	tok.AddCommand(create)
	return tok
}

func configCmd() *cobra.Command {
	c := &cobra.Command{Use: "config", Short: "The Mobile@Work configuration devices receive"}
	set := &cobra.Command{
		Use:   "set KEY=VALUE...",
		Short: "Set configuration keys; all are validated before any is saved",
		Long:  "Keys:\n" + keyHelp(),
		RunE: withServer(func(s *server.Server, cmd *cobra.Command, args []string) error {
			cfg, err := s.SetConfig(cmd.Context(), args)
			if err != nil {
				return err
			}
			return printConfig(cmd, cfg)
		}),
	}
	set.Flags().Bool("json", false, "print JSON")
	show := &cobra.Command{
		Use:   "show",
		Short: "Show every key with its effective value",
		Args:  cli.NoArgs,
		RunE: withServer(func(s *server.Server, cmd *cobra.Command, _ []string) error {
			cfg, err := s.Config(cmd.Context())
			if err != nil {
				return err
			}
			return printConfig(cmd, cfg)
		}),
	}
	show.Flags().Bool("json", false, "print JSON")
	c.AddCommand(set, show)
	return c
}

func keyHelp() string {
	var b strings.Builder
	for _, k := range settings.Keys() {
		fmt.Fprintf(&b, "  %-34s %s (default %q)\n", k, settings.Help(k), settings.Defaults()[k])
	}
	return b.String()
}

func printConfig(cmd *cobra.Command, cfg map[string]string) error {
	if v.GetBool("json") {
		return cli.JSON(cmd.OutOrStdout(), cfg)
	}
	rows := [][]string{}
	for _, k := range settings.Keys() {
		rows = append(rows, []string{k, cfg[k]})
	}
	return cli.Table(cmd.OutOrStdout(), []string{"KEY", "VALUE"}, rows)
}

func scriptAddCmd() *cobra.Command {
	c := &cobra.Command{Use: "script", Short: "Store scripts (list them with `scripts`)"}
	add := &cobra.Command{
		Use:   "add --name NAME --file PATH [--input LABEL:NAME[=DEFAULT]]...",
		Short: "Store a script, signed and encrypted at rest; prints its id last",
		Long: `add stores a shell script (text, at most 1 MB). It is signed with the tenant
signing certificate and encrypted with a fresh AES-256 key under DATA/blobs/.
Inputs are declared in order; scripts receive them as positional arguments and
as MAW_INPUT_<NAME> variables. Defaults may hold {$variables}.`,
		Args: cli.NoArgs,
		RunE: withServer(func(s *server.Server, cmd *cobra.Command, _ []string) error {
			path := v.GetString("file")
			if path == "" {
				return fmt.Errorf("--file is required")
			}
			body, err := os.ReadFile(path)
			if err != nil {
				return fmt.Errorf("read script: %w", err)
			}
			var decls []store.InputDecl
			for _, in := range v.GetStringSlice("input") {
				d, err := server.ParseInputDecl(in)
				if err != nil {
					return err
				}
				decls = append(decls, d)
			}
			sc, err := s.AddScript(cmd.Context(), v.GetString("name"), body, decls)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "script %q stored (%d bytes, sha256 %s)\n", sc.Name, sc.Size, sc.SHA256)
			fmt.Fprintln(cmd.OutOrStdout(), sc.ID)
			return nil
		}),
	}
	add.Flags().String("name", "", "script name")
	add.Flags().String("file", "", "path of the script")
	add.Flags().StringArray("input", nil, "declare an input LABEL:NAME[=DEFAULT] (repeatable, in order)")
	c.AddCommand(add)
	return c
}

func scriptsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "scripts",
		Short: "List scripts",
		Args:  cli.NoArgs,
		RunE: withServer(func(s *server.Server, cmd *cobra.Command, _ []string) error {
			list, err := s.Store.Scripts(cmd.Context())
			if err != nil {
				return err
			}
			if v.GetBool("json") {
				type out struct {
					ID      string            `json:"id"`
					Name    string            `json:"name"`
					SHA256  string            `json:"sha256"`
					Size    int64             `json:"size"`
					Inputs  []store.InputDecl `json:"inputs"`
					Created time.Time         `json:"created_at"`
				}
				res := []out{}
				for _, sc := range list {
					res = append(res, out{sc.ID, sc.Name, sc.SHA256, sc.Size, sc.Inputs, sc.CreatedAt})
				}
				return cli.JSON(cmd.OutOrStdout(), res)
			}
			rows := [][]string{}
			for _, sc := range list {
				rows = append(rows, []string{sc.ID, sc.Name, strconv.FormatInt(sc.Size, 10), sc.SHA256[:12]})
			}
			return cli.Table(cmd.OutOrStdout(), []string{"ID", "NAME", "BYTES", "SHA256"}, rows)
		}),
	}
	cmd.Flags().Bool("json", false, "print JSON")
	return cmd
}

func assignCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "assign --script ID --to TARGET [schedule] [--input NAME=VALUE]...",
		Short: "Distribute a script to devices; prints the assignment id last",
		Long: `assign distributes a script to all devices, one device, a device group or a
user's devices: --to all | device:ID | group:NAME | user:EMAIL.

Schedule: --once (default: at deployment), or --daily HH:MM, or
--weekly HH:MM --days mon,tue,..., with --tz local|utc (local is the device's
zone), --start YYYY-MM-DD and --end YYYY-MM-DD (inclusive). Agents that do not
announce the "schedule" capability run a recurring script once.

--input NAME=VALUE overrides a declared input; values may hold {$variables}
resolved per device. --run-as root|console_user.`,
		Args: cli.NoArgs,
		RunE: withServer(func(s *server.Server, cmd *cobra.Command, _ []string) error {
			spec, err := cli.ScheduleFromFlags(v)
			if err != nil {
				return err
			}
			a, err := s.Assign(cmd.Context(), server.AssignRequest{
				ScriptID: v.GetString("script"), To: v.GetString("to"), Schedule: spec,
				Inputs: v.GetStringSlice("input"), RunAs: v.GetString("run-as"),
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "script %s assigned to %s, %s\n", a.ScriptID, v.GetString("to"), a.Schedule.String())
			fmt.Fprintln(cmd.OutOrStdout(), a.ID)
			return nil
		}),
	}
	f := cmd.Flags()
	f.String("script", "", "script id")
	f.String("to", "", "all | device:ID | group:NAME | user:EMAIL")
	f.StringArray("input", nil, "NAME=VALUE override (repeatable)")
	f.String("run-as", "root", "root or console_user")
	cli.ScheduleFlags(f)
	return cmd
}

func devicesCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "devices",
		Short: "List enrolled devices",
		Args:  cli.NoArgs,
		RunE: withServer(func(s *server.Server, cmd *cobra.Command, _ []string) error {
			list, err := s.Store.Devices(cmd.Context())
			if err != nil {
				return err
			}
			if v.GetBool("json") {
				if list == nil {
					list = []store.Device{}
				}
				return cli.JSON(cmd.OutOrStdout(), list)
			}
			rows := [][]string{}
			for _, d := range list {
				last := "never"
				if !d.LastCheckin.IsZero() {
					last = d.LastCheckin.Local().Format(time.RFC3339)
				}
				if d.Left {
					last += " (left)"
				}
				rows = append(rows, []string{d.ID, d.Facts.SerialNumber, d.User, d.AgentVersion, strings.Join(d.Groups, ","), last})
			}
			return cli.Table(cmd.OutOrStdout(), []string{"ID", "SERIAL", "USER", "AGENT", "GROUPS", "LAST CHECK-IN"}, rows)
		}),
	}
	cmd.Flags().Bool("json", false, "print JSON")
	return cmd
}

func deviceGroupsCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "groups DEVICE-ID [GROUP...]",
		Short: "Set the groups of a device (none to clear)",
		Args:  cobra.MinimumNArgs(1),
		RunE: withServer(func(s *server.Server, cmd *cobra.Command, args []string) error {
			return s.SetDeviceGroups(cmd.Context(), args[0], args[1:])
		}),
	}
}

func resultsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "results [--device ID] [--script ID]",
		Short: "List script results",
		Args:  cli.NoArgs,
		RunE: withServer(func(s *server.Server, cmd *cobra.Command, _ []string) error {
			list, err := s.Store.Results(cmd.Context(), store.ResultFilter{DeviceID: v.GetString("device"), ScriptID: v.GetString("script")})
			if err != nil {
				return err
			}
			if v.GetBool("json") {
				res := make([]any, 0, len(list))
				for _, r := range list {
					res = append(res, resultJSON(r))
				}
				return cli.JSON(cmd.OutOrStdout(), res)
			}
			rows := [][]string{}
			for _, r := range list {
				occ := "once"
				if !r.Occurrence.IsZero() {
					occ = r.Occurrence.Format(time.RFC3339)
				}
				trunc := ""
				if r.Truncated {
					trunc = "yes"
				}
				rows = append(rows, []string{r.RunID, r.DeviceID, r.ScriptID, r.Status, strconv.Itoa(r.ExitCode),
					(time.Duration(r.DurationMS) * time.Millisecond).String(), occ, r.Stdout, r.Stderr + r.Error, trunc})
			}
			return cli.Table(cmd.OutOrStdout(), []string{"RUN", "DEVICE", "SCRIPT", "STATUS", "EXIT", "DURATION", "OCCURRENCE", "STDOUT", "STDERR", "TRUNCATED"}, rows)
		}),
	}
	cmd.Flags().String("device", "", "only this device")
	cmd.Flags().String("script", "", "only this script")
	cmd.Flags().Bool("json", false, "print JSON: an array of result objects")
	return cmd
}

// resultJSON flattens a stored result into the documented object.
func resultJSON(r store.StoredResult) map[string]any {
	m := map[string]any{
		"run_id": r.RunID, "device_id": r.DeviceID, "script_id": r.ScriptID, "assignment_id": r.AssignmentID,
		"assignment_version": r.AssignmentVersion, "status": r.Status, "exit_code": r.ExitCode,
		"started_at": r.StartedAt, "finished_at": r.FinishedAt, "duration_ms": r.DurationMS,
		"stdout": r.Stdout, "stderr": r.Stderr, "stdout_bytes": r.StdoutBytes, "stderr_bytes": r.StderrBytes,
		"truncated": r.Truncated, "invalid_utf8": r.InvalidUTF8, "error": r.Error, "received_at": r.ReceivedAt,
		"occurrence": nil,
	}
	if !r.Occurrence.IsZero() {
		m["occurrence"] = r.Occurrence
	}
	return m
}
