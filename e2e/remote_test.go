package e2e

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/mobileatwork/mobileatwork/server"
	"github.com/mobileatwork/mobileatwork/server/accounts"
	"github.com/mobileatwork/mobileatwork/server/adminapi"
)

// cliMode is how a test's server commands reach the tenant: on its data
// directory, or through the admin API with an API token. The CLI tests
// run both ways and expect the same output and exit codes.
type cliMode string

const (
	localMode  cliMode = "local"
	remoteMode cliMode = "remote"
)

var cliModes = []cliMode{localMode, remoteMode}

// serverCLI runs mobileatwork-server commands on e's tenant in mode.
func (e *env) serverCLI(mode cliMode) func(args ...string) (string, string, int) {
	t := e.t
	if mode == localMode {
		return func(args ...string) (string, string, int) {
			t.Helper()
			return run(t, "mobileatwork-server", append(args, "--data", e.data)...)
		}
	}
	url, token := e.adminAPI()
	flags := []string{"--server", url, "--ca", filepath.Join(e.data, "pki", "ca.crt")}
	return func(args ...string) (string, string, int) {
		t.Helper()
		return runEnv(t, []string{"MAW_API_TOKEN=" + token}, "mobileatwork-server", append(args, flags...)...)
	}
}

// adminAPI serves e's tenant's admin API on loopback TLS, once, and
// returns its URL and an admin API token.
func (e *env) adminAPI() (string, string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.adminURL == "" {
		ts := httptest.NewUnstartedServer(adminapi.Handler(e.srv, nil))
		ts.TLS = e.srv.TLSConfig()
		ts.StartTLS()
		e.t.Cleanup(ts.Close)
		e.adminURL = ts.URL
		e.adminToken = apiToken(e.t, e.srv, accounts.RoleAdmin)
	}
	return e.adminURL, e.adminToken
}

// apiToken is an API token of role on s.
func apiToken(t *testing.T, s *server.Server, role accounts.Role) string {
	t.Helper()
	secret, _, err := s.CreateAPIToken(context.Background(), "e2e-"+string(role), role, 0)
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

// runEnv is run with extra environment variables.
func runEnv(t *testing.T, extra []string, name string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(filepath.Join(binDir, name), args...)
	cmd.Env = append(os.Environ(), extra...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}
