package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/mobileatwork/mobileatwork/agent"
	"github.com/mobileatwork/mobileatwork/agent/service"
	"github.com/mobileatwork/mobileatwork/agent/uninstall"
	"github.com/mobileatwork/mobileatwork/executor"
	"github.com/mobileatwork/mobileatwork/internal/cli"
	"github.com/mobileatwork/mobileatwork/internal/version"
)

// lifecycleCmds are the commands that install, control and remove the agent.
func lifecycleCmds() []*cobra.Command { return []*cobra.Command{serviceCmd(), uninstallCmd()} }

func serviceCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "service install|uninstall|start|stop|restart|status",
		Short: "Install and control the agent daemon (launchd on macOS, systemd on Linux)",
		Long: `service installs the agent daemon with the system's service manager, the way the
package does: started at boot, restarted when it exits, run as root with
"mobileatwork run". On macOS the LaunchDaemon is com.mobileatwork.agent with logs
under /Library/Logs/MobileAtWork. A --state-dir or --config given here is passed
on to the daemon. Every action but status needs root.`,
		ValidArgs: service.Actions,
		Args:      cli.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opt := service.Options{}
			if sd := v.GetString("state-dir"); sd != agent.DefaultStateDir {
				abs, err := filepath.Abs(sd)
				if err != nil {
					return fmt.Errorf("--state-dir: %w", err)
				}
				opt.StateDir = abs
			}
			if cf := v.GetString("config"); cf != "" {
				abs, err := filepath.Abs(cf)
				if err != nil {
					return fmt.Errorf("--config: %w", err)
				}
				opt.ConfigFile = abs
			}
			cfg, err := service.Config(opt)
			if err != nil {
				return err
			}
			m, err := service.New(cfg)
			if err != nil {
				return err
			}
			out, err := service.Control(m, args[0], opt)
			if err != nil {
				return err
			}
			if v.GetBool("json") {
				return cli.JSON(cmd.OutOrStdout(), map[string]string{"service": cfg.Name, "action": args[0], "result": out})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %s\n", cfg.Name, out)
			return nil
		},
	}
	cmd.Flags().Bool("json", false, "print JSON")
	return cmd
}

func uninstallCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "uninstall [--remove-managed-apps] [--dry-run] [--root DIR] [--json]",
		Short: "Remove the agent from this Mac and tell the server the device leaves",
		Long: `uninstall tells the server that this device leaves (a warning when the server
cannot be reached: uninstall also works offline), unloads the launchd jobs, and
removes the agent's binaries, command link, LaunchDaemon/LaunchAgent plists,
state directory, logs and package receipt. Apps the agent installed are removed
with --remove-managed-apps, or without the flag when the tenant's configuration
(as of the last check-in) says so; --remove-managed-apps=false keeps them. Only
apps below /Applications are removed, and nothing through a symbolic link.
--dry-run lists every path and command and changes nothing. --root prefixes
every path (for tests). Needs root.`,
		Args: cli.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			root := v.GetString("root")
			layout := uninstall.DefaultLayout()
			layout.StateDir = v.GetString("state-dir")
			if !filepath.IsAbs(layout.StateDir) {
				return fmt.Errorf("--state-dir %q: uninstall needs an absolute path", layout.StateDir)
			}
			dry := v.GetBool("dry-run")
			if root == "" && !dry && os.Getenv(executor.RunTokenVar) != "" {
				return handOffUninstall(cmd, layout.StateDir)
			}
			if err := waitAfter(cmd.Context(), v.GetDuration("after")); err != nil {
				return err
			}
			stateDir := filepath.Join(root, layout.StateDir)
			if root == "" {
				stateDir = layout.StateDir
			}
			explicit := removeManagedAppsChoice(cmd)
			removeApps, err := agent.UninstallRemovesManagedApps(stateDir, explicit)
			if err != nil {
				fmt.Fprintf(cmd.ErrOrStderr(), "warning: %v\n", err)
			} else if removeApps && explicit == nil {
				fmt.Fprintln(cmd.ErrOrStderr(), "the tenant's configuration removes the apps the agent installed; --remove-managed-apps=false keeps them")
			}
			opt := uninstall.Options{Root: root, Layout: layout, RemoveManagedApps: removeApps}
			var leaveWarning error
			if id, err := agent.LoadIdentity(stateDir); err == nil {
				opt.Server = id.ServerURL
				opt.Leave = func(ctx context.Context) error {
					a, err := agent.New(agent.Options{StateDir: stateDir, Log: zap.NewNop(), Version: version.Version, Retries: 1})
					if err != nil {
						return err
					}
					return a.Leave(ctx)
				}
			} else if !errors.Is(err, agent.ErrNotEnrolled) {
				leaveWarning = err
			}
			plan, err := uninstall.NewPlan(opt)
			if err != nil {
				return err
			}
			if leaveWarning != nil {
				fmt.Fprintf(cmd.ErrOrStderr(), "warning: the server will not be told that the device leaves: %v\n", leaveWarning)
			}
			var rep uninstall.Report
			var xerr error
			if dry {
				rep = plan.DryRun()
			} else {
				ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
				defer stop()
				rep, xerr = plan.Execute(ctx)
			}
			if v.GetBool("json") {
				if err := cli.JSON(cmd.OutOrStdout(), rep); err != nil {
					return err
				}
			} else {
				printUninstall(cmd, rep)
			}
			return xerr
		},
	}
	f := cmd.Flags()
	f.Bool("remove-managed-apps", false, "also remove the apps the agent installed (below /Applications); default: as the tenant's configuration says")
	f.Bool("dry-run", false, "list what would be removed and run; change nothing")
	f.String("root", "", "prefix of every path (default /)")
	f.Bool("json", false, "print JSON")
	f.Duration("after", 0, "wait this long before starting (used by the hand-off job)")
	f.MarkHidden("after")
	return cmd
}

// removeManagedAppsChoice is the explicit --remove-managed-apps (flag,
// MAW_REMOVE_MANAGED_APPS or --config key), nil when none was made and the
// tenant's configuration decides.
func removeManagedAppsChoice(cmd *cobra.Command) *bool {
	if !cmd.Flags().Changed("remove-managed-apps") && !v.IsSet("remove-managed-apps") {
		return nil
	}
	b := v.GetBool("remove-managed-apps")
	return &b
}

// handOffDelay gives the daemon time to report the result of the script
// that asked for the uninstall before the uninstall unloads it.
const handOffDelay = 15 * time.Second

// handOffUninstall runs when a script of the agent's own daemon asks for the
// uninstall (its environment carries the executor's run token): the work is
// handed to the service manager as a job of its own, so that unloading the
// daemon does not kill it half way; the script ends at once.
func handOffUninstall(cmd *cobra.Command, stateDir string) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("hand off uninstall: %w", err)
	}
	argv := []string{exe, "uninstall", "--state-dir", stateDir, "--after", handOffDelay.String()}
	// Without a choice the job decides from the saved payload, as here.
	if c := removeManagedAppsChoice(cmd); c != nil && *c {
		argv = append(argv, "--remove-managed-apps")
	} else if c != nil {
		argv = append(argv, "--remove-managed-apps=false")
	}
	err = uninstall.Detach(cmd.Context(), handOffPlatform(), "", argv)
	if errors.Is(err, uninstall.ErrNoServiceManager) {
		return fmt.Errorf("this uninstall runs from a script of the agent, which it would stop half way, and no service manager can run it instead: run `sudo mobileatwork uninstall` from a terminal")
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "uninstall handed to the service manager as %s; it starts in %s, once this script's result is reported\n", uninstall.HandOffLabel, handOffDelay)
	return nil
}

// handOffPlatform is the service manager that runs the hand-off; tests
// replace it.
var handOffPlatform = uninstall.SystemPlatform

// waitAfter sleeps for d unless ctx ends first.
func waitAfter(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func printUninstall(cmd *cobra.Command, rep uninstall.Report) {
	w, ew := cmd.OutOrStdout(), cmd.ErrOrStderr()
	for _, r := range rep.Results {
		var what string
		switch r.Kind {
		case uninstall.KindLeave:
			what = r.What
		case uninstall.KindRun:
			what = "run " + strings.Join(r.Command, " ") + " (" + r.What + ")"
		default:
			what = "remove " + r.Path + " (" + r.What + ")"
		}
		switch r.Status {
		case uninstall.StatusPlanned:
			fmt.Fprintf(w, "would %s\n", what)
		case uninstall.StatusDone:
			fmt.Fprintf(w, "done: %s\n", what)
		default:
			fmt.Fprintf(ew, "%s: %s: %s\n", r.Status, what, r.Error)
		}
	}
	for _, k := range rep.Kept {
		fmt.Fprintf(w, "kept: %s: %s\n", k.Path, k.Reason)
	}
	if len(rep.Results) == 0 {
		fmt.Fprintln(w, "nothing of the agent is installed here")
	}
}
