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
	"github.com/mobileatwork/mobileatwork/internal/cli"
	"github.com/mobileatwork/mobileatwork/internal/version"
	"github.com/mobileatwork/mobileatwork/packaging/launchd"
)

func enrollCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "enroll --server URL --token-file PATH | --from-file PATH",
		Short: "Register this device with its tenant (once)",
		Long: `enroll registers the device: it checks the server's TLS chain against the tenant
CA pinned in the token (and refuses any other server), creates the device key
(RSA 3072, kept 0600 in the state directory), and obtains a device certificate.

The token is read from --token-file PATH, or from standard input with
--token-file -: the safe way for scripts, as every local user can read a
command's arguments while it runs. --token TOKEN is for typing by hand.

--from-file PATH enrolls with the enrollment file of a package built by
mobileatwork-server package (server URL and token) and removes it once
enrolled. The file is trusted only if it is a regular file owned by root
with mode 0600; it is kept when the server cannot be reached, and the
daemon tries again when it starts.`,
		Args: cli.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			o := enrollOptions()
			if file := v.GetString("from-file"); file != "" {
				if v.GetString("server") != "" || v.GetString("token") != "" || v.GetString("token-file") != "" {
					return errors.New("--from-file takes the server and the token from the file: give no --server, --token or --token-file")
				}
				id, ef, err := agent.EnrollFromFile(ctx, file, nil, o)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "enrolled with %s%s; %s removed\n", id.ServerURL, forOrg(ef.Organization), file)
				fmt.Fprintln(cmd.OutOrStdout(), id.DeviceID)
				return nil
			}
			token, err := enrollToken(cmd)
			if err != nil {
				return err
			}
			if o.ServerURL = v.GetString("server"); o.ServerURL == "" {
				return errors.New("--server is required; with --token-file or --token, or enroll with --from-file")
			}
			o.Token = token
			id, err := agent.Enroll(ctx, o)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "enrolled with %s\n", id.ServerURL)
			fmt.Fprintln(cmd.OutOrStdout(), id.DeviceID)
			return nil
		},
	}
	cmd.Flags().String("server", "", "tenant server URL, https://HOST[:PORT]")
	cmd.Flags().String("token-file", "", "read the enrollment token from this file, - for standard input (the safe way for scripts)")
	cmd.Flags().String("token", "", "enrollment token, typed by hand (scripts: use --token-file, as argv is readable by every local user)")
	cmd.Flags().String("from-file", "", "enroll with the enrollment file of an enrolling package (root-owned, 0600), e.g. /Library/MobileAtWork/enroll.json")
	return cmd
}

// enrollToken is the token of --token-file or --token: exactly one of them.
func enrollToken(cmd *cobra.Command) (string, error) {
	file, token := v.GetString("token-file"), v.GetString("token")
	switch {
	case file != "" && token != "":
		return "", errors.New("give the token with one of --token-file and --token, not both")
	case file != "":
		return agent.ReadTokenFile(file, cmd.InOrStdin())
	case token != "":
		return token, nil
	}
	return "", errors.New("--token-file PATH (- for standard input) or --token is required; the token comes from `mobileatwork-server token create`")
}

func forOrg(name string) string {
	if name == "" {
		return ""
	}
	return " (" + name + ")"
}

// enrollAtStart enrolls the daemon's device from the package's enrollment
// file when the server could not be reached at install.
func enrollAtStart(log *zap.Logger) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	agent.EnrollAtStart(ctx, launchd.EnrollFilePath, nil, enrollOptions(), log.Named("enroll"))
}

// enrollOptions are what every enrollment of this device sends besides
// its server URL and token: the state directory, facts and capabilities.
func enrollOptions() agent.EnrollOptions {
	return agent.EnrollOptions{
		StateDir: v.GetString("state-dir"), Facts: agent.DeviceFacts(version.Version), Capabilities: version.Capabilities(),
	}
}
