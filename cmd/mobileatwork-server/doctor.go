package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/mobileatwork/mobileatwork/internal/cli"
	"github.com/mobileatwork/mobileatwork/server"
	"github.com/mobileatwork/mobileatwork/server/jsonview"
)

// exitNeedsAction is doctor's exit status when something needs doing.
const exitNeedsAction = 3

func doctorCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "doctor [--json]",
		Short: "Check the expiry of the tenant's certificates and of the devices' certificates",
		Long: `doctor reports when the tenant CA, the signing certificate (and a previous one still
kept) and the server TLS certificate expire, how many signing certificates were
retired (agents refuse them), with what to do when the CA has
less than 180 days left or a leaf less than 30, and lists the devices whose
certificate expires within 60 days: devices renew theirs with a third of its
life left, so these have not (offline, or an agent too old to renew). It exits
3 when something needs action, 0 otherwise.`,
		Args: cli.NoArgs,
		RunE: localOnly(func(s *server.Server, cmd *cobra.Command, _ []string) error {
			d, err := s.Doctor(cmd.Context())
			if err != nil {
				return err
			}
			if v.GetBool("json") {
				if err := cli.JSON(cmd.OutOrStdout(), jsonview.NewDoctor(d)); err != nil {
					return err
				}
			} else if err := printDoctor(cmd, d); err != nil {
				return err
			}
			if d.NeedsAction() {
				return &cli.ExitStatus{Code: exitNeedsAction, Err: fmt.Errorf("%d certificate(s) and %d device(s) need action", actions(d), len(d.Devices))}
			}
			return nil
		}),
	}
	cmd.Flags().Bool("json", false, "print JSON")
	return cmd
}

func actions(d server.Doctor) int {
	n := 0
	for _, c := range d.Certificates {
		if c.Action != "" {
			n++
		}
	}
	return n
}

func printDoctor(cmd *cobra.Command, d server.Doctor) error {
	ok := func(s string) string {
		if s == "" {
			return "ok"
		}
		return s
	}
	var rows [][]string
	for _, c := range d.Certificates {
		rows = append(rows, []string{c.Name, c.Serial, c.NotAfter.Format(time.DateOnly), ok(c.Action)})
	}
	if err := cli.Table(cmd.OutOrStdout(), []string{"CERTIFICATE", "SERIAL", "EXPIRES", "STATUS"}, rows); err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "retired signing certificates agents refuse: %d\n", d.RetiredSigners)
	if len(d.Devices) == 0 {
		fmt.Fprintln(cmd.OutOrStdout(), "\nno device certificate expires within 60 days")
		return nil
	}
	rows = nil
	for _, dev := range d.Devices {
		last := "never"
		if !dev.LastCheckin.IsZero() {
			last = dev.LastCheckin.UTC().Format(time.RFC3339)
		}
		rows = append(rows, []string{dev.ID, dev.NotAfter.Format(time.DateOnly), last, dev.Action})
	}
	fmt.Fprintln(cmd.OutOrStdout())
	return cli.Table(cmd.OutOrStdout(), []string{"DEVICE", "EXPIRES", "LAST CHECK-IN", "ACTION"}, rows)
}
