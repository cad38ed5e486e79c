package main

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/mobileatwork/mobileatwork/agent"
	"github.com/mobileatwork/mobileatwork/internal/cli"
)

// geteuid is os.Geteuid; tests replace it.
var geteuid = os.Geteuid

func eventCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "event NAME",
		Short: "Send a named event: the script configurations on it run within seconds",
		Long: `event records the event NAME (1 to 64 characters of letters, digits, '.', '_'
and '-') for the daemon, which runs the script configurations distributed to
this device with --on event:NAME within seconds, once per event; when the
daemon is not running, the event waits for it (or for the next checkin). The
name must be one a configuration of this device runs on, as of its last
check-in. Needs root.`,
		Args: cli.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			state := v.GetString("state-dir")
			if geteuid() != 0 && state == agent.DefaultStateDir {
				return errors.New("mobileatwork event needs root: run it with sudo")
			}
			now := time.Now()
			if err := agent.SendEvent(state, args[0], now); err != nil {
				return err
			}
			if v.GetBool("json") {
				return cli.JSON(cmd.OutOrStdout(), map[string]any{"event": args[0], "sent_at": now.UTC()})
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "event %q sent: the daemon runs the configurations on it within seconds\n", args[0])
			return nil
		},
	}
	cmd.Flags().Bool("json", false, "print JSON")
	return cmd
}
