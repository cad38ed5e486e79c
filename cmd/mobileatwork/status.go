package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/mobileatwork/mobileatwork/agent"
	"github.com/mobileatwork/mobileatwork/internal/cli"
	"github.com/mobileatwork/mobileatwork/protocol"
)

func statusCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show enrollment, last check-in, the configuration in effect, queued results and next runs",
		Args:  cli.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := newAgent(zap.NewNop())
			var st agent.Status
			switch {
			case err == nil:
				st = a.Status()
			case errors.Is(err, agent.ErrNotEnrolled):
				st = agent.Status{NextRuns: []agent.NextRun{}}
			default:
				return err
			}
			if v.GetBool("json") {
				return cli.JSON(cmd.OutOrStdout(), st)
			}
			return printStatus(cmd, st)
		},
	}
	cmd.Flags().Bool("json", false, "print JSON")
	return cmd
}

func printStatus(cmd *cobra.Command, st agent.Status) error {
	w := cmd.OutOrStdout()
	if !st.Enrolled {
		fmt.Fprintln(w, "enrolled:      no (run `mobileatwork enroll --server URL --token TOKEN`)")
		return nil
	}
	when := func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return t.Local().Format(time.RFC3339)
	}
	fmt.Fprintf(w, "enrolled:      yes, since %s\ndevice id:     %s\nserver:        %s\nlast check-in: %s\n",
		when(st.EnrolledAt), st.DeviceID, st.Server, when(st.LastCheckin))
	if st.LastError != "" {
		fmt.Fprintf(w, "last error:    %s (at %s)\n", st.LastError, when(st.LastAttempt))
	}
	if st.Config != nil { // checked in at least once
		fmt.Fprintf(w, "configuration: %s\n", configurationText(st.Configuration))
		if st.Config.ScriptsStopped {
			fmt.Fprintf(w, "scripts:       stopped, none runs (%s)\n", st.Config.ScriptsStoppedReason)
		}
	}
	fmt.Fprintf(w, "queued:        %d result(s)\n", st.Queued)
	if len(st.NextRuns) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	rows := [][]string{}
	for _, n := range st.NextRuns {
		next := ""
		if !n.Next.IsZero() {
			next = n.Next.Local().Format(time.RFC3339)
		}
		state := n.State
		if n.Retry > 0 {
			state = fmt.Sprintf("retry %d of %d", n.Retry, n.Retries)
		}
		last := ""
		if !n.LastOccurrence.IsZero() {
			last = n.LastOccurrence.Local().Format(time.RFC3339)
		}
		rows = append(rows, []string{n.AssignmentID, n.Name, n.Schedule, state, next, last})
	}
	return cli.Table(w, []string{"ASSIGNMENT", "SCRIPT", "SCHEDULE", "STATE", "NEXT RUN", "LAST TRIGGERED"}, rows)
}

// configurationText names the Mobile@Work configuration in effect.
func configurationText(c *protocol.ConfigurationRef) string {
	if c == nil {
		return "none distributed to this device: no script runs"
	}
	return fmt.Sprintf("%s (version %d, %s)", c.Name, c.Version, c.ID)
}
