package main

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/mobileatwork/mobileatwork/internal/cli"
	"github.com/mobileatwork/mobileatwork/packaging"
	"github.com/mobileatwork/mobileatwork/server"
	"github.com/mobileatwork/mobileatwork/server/jsonview"
)

// enrollingOnly are the flags of an enrolling package: a catalog package
// carries no token, so none of them applies.
var enrollingOnly = []string{"out", "server-url", "user", "uses", "ttl"}

// publishAgent is `package --catalog`: the generic agent package as the
// catalog's Mobile@Work app.
func publishAgent(s *server.Server, cmd *cobra.Command) error {
	for _, f := range enrollingOnly {
		if cmd.Flags().Changed(f) {
			return fmt.Errorf("--%s is for an enrolling package: --catalog publishes the agent package without a token (enrolled Macs need none); drop --%s", f, f)
		}
	}
	if v.GetString("agent-dir") == "" {
		return fmt.Errorf("--agent-dir DIR is required: the directory of mobileatwork-arm64 and mobileatwork-amd64 (make pkg writes them to dist/darwin)")
	}
	created, err := packaging.BuildTime(os.Getenv, time.Now)
	if err != nil {
		return err
	}
	o := server.PublishAgentOptions{
		AgentDir: v.GetString("agent-dir"), Version: v.GetString("version"), Created: created, Force: v.GetBool("force"),
	}
	if o.Signer, err = loadSigner(v.GetString("sign-cert"), v.GetString("sign-key")); err != nil {
		return err
	}
	p, err := s.PublishAgent(cmd.Context(), o)
	if err != nil {
		return err
	}
	if v.GetBool("json") {
		return cli.JSON(cmd.OutOrStdout(), publishedJSON{App: jsonview.NewApp(p.App), Previous: p.Previous, Signed: p.Signed})
	}
	a := p.App
	w := cmd.OutOrStdout()
	fmt.Fprintf(w, "sha256:   %s\nversion:  %s\nprevious: %s\nsize:     %d\n", a.FileSHA256, a.Version, orDash(p.Previous), a.FileSize)
	if p.Previous == "" {
		fmt.Fprintf(cmd.ErrOrStderr(), "%q added to the catalog; it reaches no Mac until `app distribute --app %s --to TARGET`\n", a.Name, a.ID)
	} else {
		fmt.Fprintf(cmd.ErrOrStderr(), "%q updated from %s to %s; the Macs it is distributed to offer the update at their next check-in\n", a.Name, p.Previous, a.Version)
	}
	fmt.Fprintln(w, a.ID)
	return nil
}

type publishedJSON struct {
	App      jsonview.App `json:"app"`
	Previous string       `json:"previous_version,omitempty"`
	Signed   bool         `json:"signed"`
}
