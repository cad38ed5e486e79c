package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/mobileatwork/mobileatwork/agent"
	"github.com/mobileatwork/mobileatwork/agent/managedpref"
	"github.com/mobileatwork/mobileatwork/agent/registration"
	"github.com/mobileatwork/mobileatwork/internal/cli"
	"github.com/mobileatwork/mobileatwork/internal/localweb"
	"github.com/mobileatwork/mobileatwork/internal/routines"
	"github.com/mobileatwork/mobileatwork/packaging/launchd"
)

// awaitRegistration keeps a daemon whose device is not enrolled (the
// generic package: no enrollment file, no managed preferences yet) serving
// the "Register this Mac" page to the console user until the device is
// enrolled; meanwhile it tries the package's enrollment file again, as a
// restart of the daemon used to, and reads the managed preference, which an
// MDM often sends after the package. It reports false when the daemon was
// stopped before.
func awaitRegistration(log *zap.Logger) bool {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	eo := enrollOptions()
	err := registration.Wait(ctx, registration.Options{
		StateDir: eo.StateDir,
		Enroll:   pageEnroll(eo),
		Retry: func(ctx context.Context) {
			agent.EnrollAtStart(ctx, launchd.EnrollFilePath, nil, eo, log.Named("enroll"))
		},
		Managed: func() (managedpref.Enrollment, error) { return managedpref.Read(managedpref.DefaultPath) },
		Log:     log.Named("registration"),
	})
	if err != nil {
		log.Info("agent stopping before this Mac was registered", zap.Error(err))
		return false
	}
	return true
}

// pageEnroll enrolls with the server address and token typed on the page.
func pageEnroll(eo agent.EnrollOptions) registration.EnrollFunc {
	return func(ctx context.Context, serverURL, token string) (*agent.Identity, error) {
		o := eo
		o.ServerURL, o.Token = serverURL, token
		return agent.Enroll(ctx, o)
	}
}

// registerCmd serves the "Register this Mac" page in the foreground, as
// the daemon does for the console user when the Mac is not registered:
// for a technician at the Mac, or to see the page.
func registerCmd() *cobra.Command {
	c := &cobra.Command{Use: "register", Short: "Register this Mac from the \"Register this Mac\" page"}
	ui := &cobra.Command{
		Use:   "ui [--listen 127.0.0.1:0]",
		Short: "Serve the \"Register this Mac\" page on loopback and print its address",
		Long: `ui serves the page the daemon offers to the console user when this Mac is not
registered, on a loopback address, and prints its URL on stdout. The URL
carries a secret created for this run: only whoever holds it can use the
page. It exits 0 once the Mac is registered from the page, non-zero when it
is registered already, or on SIGINT or SIGTERM before.`,
		Args: cli.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, sync, err := logger(v.GetString("log-file"))
			if err != nil {
				return err
			}
			defer sync()
			eo := enrollOptions()
			switch _, err := agent.LoadIdentity(eo.StateDir); {
			case err == nil:
				return errors.New("this Mac is registered already (see `mobileatwork status`); `mobileatwork uninstall` first to register it again")
			case !errors.Is(err, agent.ErrNotEnrolled):
				return err
			}
			page, err := registration.NewPage(pageEnroll(eo), log.Named("registration"))
			if err != nil {
				return err
			}
			srv, err := localweb.New(page.Handler(), localweb.Options{Listen: v.GetString("listen")})
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			g := routines.New(ctx)
			g.Go(func(ctx context.Context) {
				if err := srv.Serve(ctx); err != nil {
					log.Warn("registration page", zap.Error(err))
				}
			})
			fmt.Fprintln(cmd.OutOrStdout(), srv.URL())
			select {
			case <-page.Done():
			case <-ctx.Done():
			}
			g.Close() // the page's last answer is let finish
			id := page.Identity()
			if id == nil {
				return errors.New("stopped before this Mac was registered")
			}
			fmt.Fprintf(cmd.OutOrStdout(), "registered: device %s with %s\n", id.DeviceID, id.ServerURL)
			return nil
		},
	}
	f := ui.Flags()
	f.String("listen", "127.0.0.1:0", "loopback address to serve on (port 0 picks a free port)")
	f.String("log-file", "", "also write JSON logs to this file")
	c.AddCommand(ui)
	return c
}
