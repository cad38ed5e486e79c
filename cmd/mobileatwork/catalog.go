package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/mobileatwork/mobileatwork/agent"
	"github.com/mobileatwork/mobileatwork/agent/appcatalog"
	"github.com/mobileatwork/mobileatwork/agent/installer"
	"github.com/mobileatwork/mobileatwork/executor"
	"github.com/mobileatwork/mobileatwork/internal/cli"
	"github.com/mobileatwork/mobileatwork/internal/localweb"
	"github.com/mobileatwork/mobileatwork/internal/routines"
	"github.com/mobileatwork/mobileatwork/protocol"
)

func catalogCmd() *cobra.Command {
	c := &cobra.Command{Use: "catalog", Short: "Apps@Work: the apps your organisation offers this Mac"}
	list := &cobra.Command{
		Use:   "list [--json]",
		Short: "List the catalog of the latest check-in, with what is installed",
		Args:  cli.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			svc := appcatalog.New(appcatalog.Options{
				Source: savedCatalog{v.GetString("state-dir")}, StateDir: v.GetString("state-dir"),
				InventoryRoot: v.GetString("root"),
			})
			st := svc.State(cmd.Context())
			if v.GetBool("json") {
				return cli.JSON(cmd.OutOrStdout(), st)
			}
			if st.Error != "" {
				fmt.Fprintln(cmd.ErrOrStderr(), st.Error)
			}
			if st.ReceivedAt.IsZero() {
				fmt.Fprintln(cmd.ErrOrStderr(), "no catalog yet: run `mobileatwork checkin` or wait for the next check-in")
			}
			rows := [][]string{}
			for _, a := range st.Apps {
				rating := "-"
				if a.Rating > 0 {
					rating = strconv.FormatFloat(a.Rating, 'f', 1, 64)
				}
				rows = append(rows, []string{a.ID, a.Name, a.Category, a.Publisher, rating, a.Status, a.InstalledVersion})
			}
			return cli.Table(cmd.OutOrStdout(), []string{"ID", "NAME", "CATEGORY", "PUBLISHER", "RATING", "STATUS", "INSTALLED VERSION"}, rows)
		},
	}
	list.Flags().Bool("json", false, "print JSON")
	list.Flags().String("root", "", "prefix of the paths the inventory reads (default /)")

	ui := &cobra.Command{
		Use:   "ui [--listen 127.0.0.1:0] [--open]",
		Short: "Serve Apps@Work on loopback and print its address",
		Long: `ui serves the Apps@Work page on a loopback address until SIGINT or SIGTERM and
prints its URL on stdout. The URL carries a secret created for this run: only
whoever holds it can use the page (keep it to the console user). --open shows
it in the console user's default browser. Installs of in-house apps download
the package over the device's mutual TLS, check its SHA-256 against the
signed check-in and run the installer.`,
		Args: cli.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, sync, err := logger(v.GetString("log-file"))
			if err != nil {
				return err
			}
			defer sync()
			a, err := newAgent(log)
			if err != nil {
				return err
			}
			svc := appcatalog.New(appcatalog.Options{
				Source: a, Installer: installer.Default(v.GetString("root")),
				StateDir: a.StateDir(), InventoryRoot: v.GetString("root"), Log: log.Named("catalog"),
			})
			srv, err := localweb.New(svc.Handler(), localweb.Options{Listen: v.GetString("listen")})
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			g := routines.New(ctx)
			defer g.Close()
			g.Go(func(ctx context.Context) { svc.Watch(ctx, 5*time.Second) })
			fmt.Fprintln(cmd.OutOrStdout(), srv.URL())
			if v.GetBool("open") {
				if err := opener().Open(ctx, srv.URL()); err != nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "could not open a browser: %v\nopen the address above instead\n", err)
				}
			}
			err = srv.Serve(ctx)
			svc.Wait()
			return err
		},
	}
	f := ui.Flags()
	f.String("listen", "127.0.0.1:0", "loopback address to serve on (port 0 picks a free port)")
	f.Bool("open", false, "open the page in the console user's default browser")
	f.String("root", "", "prefix of the paths the inventory reads and the Linux installer twin writes (default /)")
	f.String("log-file", "", "also write JSON logs to this file")
	c.AddCommand(list, ui)
	return c
}

// opener opens pages for the console user; as root it finds that user.
func opener() localweb.Opener {
	return localweb.CommandOpener{
		Euid: os.Geteuid(),
		Console: func() (localweb.ConsoleUser, error) {
			u, err := executor.ConsoleUser()
			if err != nil {
				return localweb.ConsoleUser{}, err
			}
			return localweb.ConsoleUser{UID: u.UID, Name: u.Name}, nil
		},
	}
}

// errOffline is returned by savedCatalog for anything needing the network.
var errOffline = errors.New("catalog list works offline: files are fetched by `catalog ui` only")

// savedCatalog reads the catalog saved by the daemon, without the network.
type savedCatalog struct{ stateDir string }

func (s savedCatalog) Catalog() (agent.Catalog, error) { return agent.LoadCatalog(s.stateDir) }

func (savedCatalog) FetchAsset(context.Context, protocol.Asset, int64) ([]byte, error) {
	return nil, errOffline
}

func (savedCatalog) DownloadAsset(context.Context, protocol.Asset, int64, string) error {
	return errOffline
}
