package main

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/mobileatwork/mobileatwork/internal/cli"
	"github.com/mobileatwork/mobileatwork/internal/version"
	"github.com/mobileatwork/mobileatwork/packaging"
	"github.com/mobileatwork/mobileatwork/packaging/xar"
	"github.com/mobileatwork/mobileatwork/server"
	"github.com/mobileatwork/mobileatwork/server/jsonview"
)

func packageCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "package --agent-dir DIR (--out FILE [--server-url URL] [--user EMAIL] [--uses N] [--ttl 7d] | --catalog [--force])",
		Short: "Build the tenant's enrolling agent package (installing it registers the Mac); prints its path last",
		Long: `package builds the agent's installer package with an enrollment file in its
payload (/Library/MobileAtWork/enroll.json, root:wheel 0600): the server URL,
a fresh enrollment token (which pins the tenant CA) and the tenant's name.
Its postinstall enrolls the Mac with it and removes it; when the server
cannot be reached then, the daemon tries again each time it starts.

DIR holds the two thin darwin executables as make pkg names them,
mobileatwork-arm64 and mobileatwork-amd64. The token is created as token
create makes one (only its hash is kept; --user, --uses, --ttl as there,
--ttl also in days, 7d) and is printed nowhere: the package holds it, so
the package file is written 0600 and must be handed out like the token
itself. Revoke its token (id printed) to retire a package. It prints the
package's SHA-256, version, server, token id, user, uses and expiry, then
its path alone on the last line (--json: one object).

--server-url defaults to the tenant's server_url (tenant set); it must
be a host the server's TLS certificate names. --sign-cert and --sign-key sign
the package as mawpkg does.

--catalog instead publishes the agent package without an enrollment file
as the catalog's in-house app "Mobile@Work" (package id
com.mobileatwork.agent): added when the catalog has none, else updated to
--version, which must be newer than the published one (--force: any).
Only --agent-dir, --version, --sign-cert/--sign-key and --json apply. A
new entry reaches no Mac until app distribute; an updated one keeps its
distributions, and enrolled Macs offer it as an update of their agent.
It prints the package's SHA-256, version, previous version and size, then
the app id alone on the last line.`,
		Args: cli.NoArgs,
		RunE: localOnly(func(s *server.Server, cmd *cobra.Command, _ []string) error {
			if v.GetBool("catalog") {
				return publishAgent(s, cmd)
			}
			if v.GetBool("force") {
				return errors.New("--force goes with --catalog: it republishes a version that is not newer")
			}
			ttl, err := server.ParseTTL(v.GetString("ttl"))
			if err != nil {
				return err
			}
			if v.GetString("agent-dir") == "" {
				return errors.New("--agent-dir DIR is required: the directory of mobileatwork-arm64 and mobileatwork-amd64 (make pkg writes them to dist/darwin)")
			}
			created, err := packaging.BuildTime(os.Getenv, time.Now)
			if err != nil {
				return err
			}
			o := server.PackageOptions{
				AgentDir: v.GetString("agent-dir"), Out: v.GetString("out"), User: v.GetString("user"),
				Uses: v.GetInt("uses"), TTL: ttl, ServerURL: v.GetString("server-url"),
				Version: v.GetString("version"), Created: created,
			}
			if o.Signer, err = loadSigner(v.GetString("sign-cert"), v.GetString("sign-key")); err != nil {
				return err
			}
			p, err := s.BuildPackage(cmd.Context(), o)
			if err != nil {
				return err
			}
			if v.GetBool("json") {
				return cli.JSON(cmd.OutOrStdout(), jsonview.NewPackage(p))
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "sha256:   %s\nversion:  %s\nserver:   %s\ntoken:    %s\nuser:     %s\nuses:     %d\nexpires:  %s\n",
				p.SHA256, p.Version, p.ServerURL, p.Token.ID, orDash(p.Token.User), p.Token.UsesLeft, stamp(p.Token.ExpiresAt))
			fmt.Fprintf(cmd.ErrOrStderr(), "package written 0600: it holds a live enrollment token, hand it out as such; `token revoke %s` retires it\n", p.Token.ID)
			fmt.Fprintln(w, p.Path)
			return nil
		}),
	}
	f := cmd.Flags()
	f.String("agent-dir", "", "directory of mobileatwork-arm64 and mobileatwork-amd64, the thin darwin executables (required)")
	f.String("out", "", "the .pkg file to write, 0600 (required)")
	f.String("server-url", "", "https://HOST[:PORT] the Macs enroll with (default: the tenant's server_url)")
	f.String("user", "", "email of the user the enrolled devices belong to")
	f.Int("uses", 1, "how many Macs may enroll with the package")
	f.String("ttl", "7d", "how long its token stays valid: a duration (36h) or days (7d)")
	f.String("version", version.Version, "agent version written into the package")
	f.String("sign-cert", "", "PEM certificate chain of a Developer ID Installer identity, leaf first")
	f.String("sign-key", "", "PEM RSA private key of that identity")
	f.Bool("json", false, "print JSON")
	f.Bool("catalog", false, "publish the agent package, without a token, as the catalog's Mobile@Work app (new, or updated to --version)")
	f.Bool("force", false, "with --catalog: publish a --version that is not newer than the published one")
	return cmd
}

// loadSigner reads the signing identity; none when both are empty.
func loadSigner(certFile, keyFile string) (*xar.Signer, error) {
	if certFile == "" && keyFile == "" {
		return nil, nil
	}
	if certFile == "" || keyFile == "" {
		return nil, errors.New("--sign-cert and --sign-key go together")
	}
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return nil, fmt.Errorf("--sign-cert: %w", err)
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("--sign-key: %w", err)
	}
	return packaging.LoadSigner(certPEM, keyPEM)
}
