// Command mawload is the load generator of the tenant server: it enrolls
// simulated agents once and drives signed mutual-TLS check-ins from them,
// through the agent's own client, then prints what it measured.
package main

import (
	"bufio"
	"context"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/mobileatwork/mobileatwork/internal/cli"
	"github.com/mobileatwork/mobileatwork/internal/loadgen"
	"github.com/mobileatwork/mobileatwork/internal/version"
)

// The generator's own garbage collector: it shares the machine with the
// server it measures, and memory is cheaper to it than the CPU it would
// take from the server, up to a soft limit that keeps a 10,000-device run
// near a gigabyte. GOGC and GOMEMLIMIT, when set, win.
const (
	generatorGC       = 400
	generatorMemLimit = 1 << 30
)

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(generatorGC)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(generatorMemLimit)
	}
	cli.Main(newRoot())
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "mawload",
		Short: "Load generator for the Mobile@Work tenant server",
		Long: `mawload simulates a fleet of agents against a tenant server.

  mawload run --local --devices 2000 --duration 30s
      keeps a tenant of its own in --state (a temporary directory when not
      given), runs mobileatwork-server on it as a separate process, enrolls
      the devices it lacks, and measures; the server's CPU and memory are read
      from /proc.

  mawload enroll --server URL --tokens-from FILE --devices N --state DIR
  mawload run --server URL --state DIR --devices N --duration 30s
      enroll once against a running server, then drive it.

Devices are enrolled once and cached in the state directory (0700, keys
0600); later runs reuse them.`,
		Version: version.Version,
	}
	root.AddCommand(enrollCmd(), runCmd(), fillResultsCmd())
	return root
}

func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

func enrollCmd() *cobra.Command {
	var o loadgen.EnrollOptions
	var tokens, ca string
	cmd := &cobra.Command{
		Use:   "enroll",
		Short: "Enroll simulated devices once, cached in the state directory",
		Long: `enroll makes devices 0 to N-1 of the state directory enrolled, through the
agent's enrollment: devices already there are kept. Device i uses token
i modulo the number of tokens in the file, so one token made with
"token create --uses N" or N single-use tokens both work.`,
		Args: cli.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if o.Tokens, err = readTokens(tokens); err != nil {
				return err
			}
			if ca != "" {
				if o.CA, err = readCert(ca); err != nil {
					return err
				}
			}
			ctx, stop := signalContext()
			defer stop()
			o.Progress = cmd.ErrOrStderr()
			n, err := loadgen.Enroll(ctx, o)
			fmt.Fprintf(cmd.ErrOrStderr(), "mawload: %d devices enrolled now; %s holds devices 0 to %d\n", n, o.State, o.Devices-1)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Server, "server", "", "the server, https://HOST:PORT")
	f.StringVar(&tokens, "tokens-from", "", "file of enrollment tokens, one per line (- for stdin)")
	f.StringVar(&ca, "ca", "", "the tenant CA certificate (PEM or DER) the tokens must pin; optional, the tokens pin it anyway")
	f.IntVar(&o.Devices, "devices", 100, "number of devices")
	f.StringVar(&o.State, "state", "", "state directory keeping the devices' identities")
	f.IntVar(&o.Keys, "keys", 64, "distinct device keys, shared in turn (0: one per device; each takes a quarter second)")
	f.IntVar(&o.Workers, "workers", 8, "enrollments at once")
	return cmd
}

func runCmd() *cobra.Command {
	var o loadgen.RunOptions
	var lo loadgen.LocalOptions
	var local, asJSON bool
	var profile string
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Drive check-ins from the cached devices and print what was measured",
		Long: `run drives signed mutual-TLS check-ins from devices 0 to N-1 for --duration,
after a warm-up that checks every device in once. Each check-in runs the
scripts the server sends that the device has not run (download, verify,
result upload); with --script-share a quiet check-in runs a known script
again, with --inventory-share it uploads a changed inventory.

Load: --rate R offers R check-ins per second (Poisson arrivals, devices in
turn), --interval D offers devices/D, and with neither, --concurrency
devices check in back to back (the server's maximum rate).

It prints check-ins per second, check-in latency (p50/p95/p99), errors by
kind (HTTP status, TLS, timeout, connection) and, for a local server or
--server-pid, the server's CPU per check-in and memory; progress goes to
stderr every --progress.`,
		Args: cli.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if local == (o.Server != "") {
				return fmt.Errorf("give --local (a server of its own) or --server URL (a running one)")
			}
			lo.Devices = o.Devices
			if local {
				if lo.ServerBin == "" {
					lo.ServerBin = defaultServerBin()
				}
				if err := lo.Check(); err != nil {
					return err
				}
			}
			state := o.State
			if state == "" && local {
				o.State = "(temporary)" // made below, once every flag is checked
			}
			if err := o.Check(); err != nil {
				return err
			}
			if state == "" && local {
				tmp, err := os.MkdirTemp("", "mawload-")
				if err != nil {
					return err
				}
				defer os.RemoveAll(tmp)
				state = tmp
			}
			o.State, lo.State = state, state
			ctx, stop := signalContext()
			defer stop()
			o.Progress = cmd.ErrOrStderr()
			if local {
				lo.Progress = cmd.ErrOrStderr()
				srv, err := loadgen.StartLocal(ctx, lo)
				if err != nil {
					return err
				}
				defer srv.Stop()
				o.Server, o.ServerPID = srv.URL, srv.PID
			}
			stopProfile, err := cli.CPUProfile(profile)
			if err != nil {
				return err
			}
			rep, err := loadgen.Run(ctx, o)
			stopProfile()
			if err != nil {
				return err
			}
			if local {
				rep.Scenario = &lo.Scenario
			}
			if asJSON {
				return cli.JSON(cmd.OutOrStdout(), rep)
			}
			rep.WriteText(cmd.OutOrStdout())
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVar(&local, "local", false, "run a server of its own on the state directory's tenant")
	f.StringVar(&o.Server, "server", "", "a running server, https://HOST:PORT (devices enrolled with `mawload enroll`)")
	f.StringVar(&o.State, "state", "", "state directory of the devices (and, with --local, of the tenant); --local without it uses a temporary one")
	f.IntVar(&o.Devices, "devices", 100, "number of devices")
	f.DurationVar(&o.Duration, "duration", 30*time.Second, "the measured window")
	f.Float64Var(&o.Rate, "rate", 0, "check-ins per second offered (0: --interval, or the maximum)")
	f.DurationVar(&o.Interval, "interval", 0, "each device checks in about every INTERVAL: offers devices/interval per second")
	f.IntVar(&o.Concurrency, "concurrency", 32, "check-ins at once without --rate or --interval, and during the warm-up")
	f.IntVar(&o.MaxInFlight, "max-inflight", 10000, "with --rate or --interval: sessions at once before arrivals are dropped")
	f.DurationVar(&o.Timeout, "timeout", 60*time.Second, "time limit of one check-in and what follows it")
	f.BoolVar(&o.Warmup, "warmup", true, "check every device in once before the window")
	f.Float64Var(&o.Mix.ScriptShare, "script-share", 0.05, "share of quiet check-ins that run a known script again (download and result)")
	f.Float64Var(&o.Mix.InventoryShare, "inventory-share", 0.02, "share of check-ins followed by an inventory upload")
	f.BoolVar(&o.Mix.Reconnect, "reconnect", false, "a new TLS connection for every check-in, as at intervals over 90s")
	f.BoolVar(&o.Wake, "wake", false, "then every device also holds the wake channel: the server idle for --duration, and the window again")
	f.IntVar(&o.ServerPID, "server-pid", 0, "with --server: the server's process id on this machine, for its CPU and memory")
	f.DurationVar(&o.ProgressEvery, "progress", 5*time.Second, "a progress line on stderr this often (0: none)")
	f.BoolVar(&asJSON, "json", false, "print the report as JSON")
	f.StringVar(&lo.ServerBin, "server-bin", "", "with --local: the mobileatwork-server binary (default: beside mawload, else on PATH)")
	f.StringVar(&lo.LogLevel, "server-log-level", "info", "with --local: the server's log level (info logs every request, as shipped)")
	f.StringVar(&profile, "cpu-profile", "", "write a CPU profile of the generator's run (warm-up and window) to this file")
	f.StringArrayVar(&lo.ServerArgs, "server-arg", nil, "with --local: an argument added to the measured server's `serve` (repeatable), e.g. --server-arg=--cpu-profile=cpu.pprof")
	f.IntVar(&lo.Scenario.ToAll, "configs-to-all", 1, "with --local: run-once script configurations distributed to all")
	f.IntVar(&lo.Scenario.PerDevice, "device-configs", 0, "with --local: one-device run-once script configurations, spread over the devices")
	f.IntVar(&lo.Keys, "keys", 64, "with --local: distinct device keys for new devices (0: one per device)")
	return cmd
}

// defaultServerBin is mobileatwork-server beside this program, else the
// one on PATH.
func defaultServerBin() string {
	if self, err := os.Executable(); err == nil {
		if p := filepath.Join(filepath.Dir(self), "mobileatwork-server"); fileExists(p) {
			return p
		}
	}
	if p, err := exec.LookPath("mobileatwork-server"); err == nil {
		return p
	}
	return "mobileatwork-server"
}

func fileExists(p string) bool { fi, err := os.Stat(p); return err == nil && !fi.IsDir() }

// readTokens reads one token per line; blank lines and # comments are
// skipped.
func readTokens(path string) ([]string, error) {
	if path == "" {
		return nil, fmt.Errorf("--tokens-from is required: a file of enrollment tokens, one per line")
	}
	f := os.Stdin
	if path != "-" {
		var err error
		if f, err = os.Open(path); err != nil {
			return nil, fmt.Errorf("--tokens-from: %w", err)
		}
		defer f.Close()
	}
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if t := strings.TrimSpace(sc.Text()); t != "" && !strings.HasPrefix(t, "#") {
			out = append(out, t)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("--tokens-from: %w", err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("--tokens-from %s holds no token", path)
	}
	return out, nil
}

// readCert reads a certificate file, PEM or DER, and returns its DER.
func readCert(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--ca: %w", err)
	}
	if blk, _ := pem.Decode(b); blk != nil {
		return blk.Bytes, nil
	}
	return b, nil
}
