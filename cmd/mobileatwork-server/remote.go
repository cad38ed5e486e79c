package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mobileatwork/mobileatwork/server"
	"github.com/mobileatwork/mobileatwork/server/adminapi"
	"github.com/mobileatwork/mobileatwork/server/console"
)

// remoteFlags are the root's flags of remote mode: with --server, every
// administrative command runs on that server's admin API instead of a
// local data directory.
func remoteFlags(root *cobra.Command) {
	f := root.PersistentFlags()
	f.String("server", "", "run on this server's admin API, https://HOST:PORT (env MAW_SERVER_URL), instead of --data")
	f.String("ca", "", "PEM file of the tenant CA the admin API's certificate must chain to (env MAW_CA; pki/ca.crt in the data directory)")
	f.String("ca-pin", "", "or trust the tenant CA by its SHA-256, as init prints it and enrollment tokens carry it (env MAW_CA_PIN)")
	f.String("api-token-file", "", "file holding the API token, - for standard input (or env MAW_API_TOKEN); never on the command line")
}

func bindRemoteEnv() {
	_ = v.BindEnv("server", "MAW_SERVER_URL")
	_ = v.BindEnv("ca", "MAW_CA")
	_ = v.BindEnv("ca-pin", "MAW_CA_PIN")
}

// withAdmin runs fn on the tenant: remote with --server, else on the data
// directory as the local OS user, whose changes are audited as such.
func withAdmin(fn func(adminapi.Conn, *cobra.Command, []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		if v.GetString("server") == "" {
			return withServer(func(s *server.Server, cmd *cobra.Command, args []string) error {
				return fn(adminapi.Local{S: s, Actor: localActor()}, cmd, args)
			})(cmd, args)
		}
		c, err := remoteConn(cmd)
		if err != nil {
			return err
		}
		return fn(c, cmd, args)
	}
}

// localOnly refuses remote mode for the commands that need the tenant's
// host: its keys, its files or its database file.
func localOnly(fn func(*server.Server, *cobra.Command, []string) error) func(*cobra.Command, []string) error {
	return hostOnly(withServer(fn))
}

// hostOnly is localOnly for the commands that open no tenant (init, which
// makes it, and restore, which brings its database back).
func hostOnly(fn func(*cobra.Command, []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		if v.GetString("server") != "" {
			return fmt.Errorf("%s works on the server's host only, with --data, not with --server", cmd.CommandPath())
		}
		return fn(cmd, args)
	}
}

func remoteConn(cmd *cobra.Command) (*adminapi.Remote, error) {
	trust := adminapi.Trust{Pin: v.GetString("ca-pin")}
	if f := v.GetString("ca"); f != "" {
		ca, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("--ca: %w", err)
		}
		trust.CAPEM = ca
	}
	token, err := apiToken(cmd)
	if err != nil {
		return nil, err
	}
	return adminapi.NewRemote(v.GetString("server"), token, trust)
}

// apiToken reads the token from --api-token-file or MAW_API_TOKEN: a
// secret never travels in argv, where every local user can read it.
func apiToken(cmd *cobra.Command) (string, error) {
	f := v.GetString("api-token-file")
	if f == "" {
		return strings.TrimSpace(os.Getenv("MAW_API_TOKEN")), nil
	}
	var (
		b   []byte
		err error
	)
	if f == "-" {
		b, err = io.ReadAll(io.LimitReader(cmd.InOrStdin(), 4<<10))
	} else {
		b, err = os.ReadFile(f)
	}
	if err != nil {
		return "", fmt.Errorf("--api-token-file: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// consoleHandler is the web console of the admin listener.
func consoleHandler(*server.Server) http.Handler { return console.New() }
