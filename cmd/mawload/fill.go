package main

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/mobileatwork/mobileatwork/internal/cli"
	"github.com/mobileatwork/mobileatwork/internal/loadgen"
	"github.com/mobileatwork/mobileatwork/server"
	"github.com/mobileatwork/mobileatwork/server/backends"
)

func fillResultsCmd() *cobra.Command {
	o := loadgen.FillOptions{Progress: os.Stderr}
	var data string
	cmd := &cobra.Command{
		Use:   "fill-results",
		Short: "Write a history of N results into a tenant, to measure listings at scale",
		Long: `fill-results writes --count results into the tenant in --data, on the
database its init recorded (SQLite or PostgreSQL), through the store: from
--devices devices and --configs configurations in turn, statuses mixed, a
few hundred bytes of output each, received --step apart ending now. Run
ids follow from the result's number, so a second fill adds nothing.
Progress goes to stderr.`,
		Args: cli.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Start = time.Now().Add(-time.Duration(o.Count) * o.Step)
			if err := o.Check(); err != nil {
				return err
			}
			s, err := server.OpenWith(data, server.StoreOptions{Openers: backends.Openers()})
			if err != nil {
				return err
			}
			defer s.Close()
			ctx, stop := signalContext()
			defer stop()
			n, err := loadgen.FillResults(ctx, s.Store, o)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d results written, %d new\n", o.Count, n)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&data, "data", "", "the tenant's data directory (made by mobileatwork-server init)")
	f.IntVar(&o.Count, "count", 1_000_000, "results to write")
	f.IntVar(&o.Devices, "devices", 300, "devices the results come from")
	f.IntVar(&o.Configs, "configs", 8, "configurations the results belong to")
	f.IntVar(&o.Workers, "workers", 8, "writes in flight at once")
	f.DurationVar(&o.Step, "step", time.Second, "time between two results' reception")
	_ = cmd.MarkFlagRequired("data")
	return cmd
}
