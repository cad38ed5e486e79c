// Package e2e runs the reference server and the agent together on loopback,
// in process for most tests and as built binaries where a process boundary
// matters (the CLI contract, SIGKILL in the middle of a run).
package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/agent"
	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server"
	"github.com/mobileatwork/mobileatwork/server/store"
)

var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "maw-e2e-bin")
	if err != nil {
		panic(err)
	}
	cmd := exec.Command("go", "build", "-o", dir+string(os.PathSeparator), "../cmd/mobileatwork", "../cmd/mobileatwork-server")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		panic("build binaries: " + err.Error() + "\n" + string(out))
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// env is one tenant served on loopback plus helpers to enroll agents.
type env struct {
	t    *testing.T
	data string
	srv  *server.Server
	ts   *httptest.Server
	url  string

	mu        sync.Mutex
	intercept func(w http.ResponseWriter, r *http.Request, next http.Handler) // nil: pass through
	scripts   int                                                             // scripts added, for unique names

	adminURL, adminToken string // the admin API, once a remote-mode test starts it
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, data: filepath.Join(t.TempDir(), "data")}
	srv, err := server.Init(e.data, "Test tenant", nil)
	if err != nil {
		t.Fatal(err)
	}
	return e.serve(srv)
}

// serve serves srv on loopback for e.
func (e *env) serve(srv *server.Server) *env {
	t := e.t
	t.Helper()
	e.srv = srv
	h := srv.Handler()
	e.ts = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		ic := e.intercept
		e.mu.Unlock()
		if ic != nil {
			ic(w, r, h)
			return
		}
		h.ServeHTTP(w, r)
	}))
	e.ts.TLS = srv.TLSConfig()
	e.ts.StartTLS()
	e.url = e.ts.URL
	t.Cleanup(func() { e.ts.Close(); srv.Close() })
	// Most tests are not about distribution: the default Mobile@Work
	// configuration reaches every device, as an administrator's first step
	// makes it. Tests of the undistributed default withdraw it.
	if _, err := srv.Distribute(context.Background(), "default", []string{"all"}, false); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) setIntercept(f func(w http.ResponseWriter, r *http.Request, next http.Handler)) {
	e.mu.Lock()
	e.intercept = f
	e.mu.Unlock()
}

func (e *env) token(uses int, ttl time.Duration) string {
	e.t.Helper()
	tok, err := e.srv.CreateToken(context.Background(), "ada@example.com", uses, ttl)
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

var testFacts = protocol.Facts{SerialNumber: "C02E2ETEST", Hostname: "mac-e2e", AgentVersion: "1.80.0"}

// enroll enrolls a fresh state dir and returns it.
func (e *env) enroll() string {
	e.t.Helper()
	state := filepath.Join(e.t.TempDir(), "state")
	_, err := agent.Enroll(context.Background(), agent.EnrollOptions{
		StateDir: state, ServerURL: e.url, Token: e.token(1, time.Hour), Facts: testFacts,
		Capabilities: []string{protocol.CapSchedule},
	})
	if err != nil {
		e.t.Fatalf("enroll: %v", err)
	}
	return state
}

func newAgent(t *testing.T, state string) *agent.Agent {
	t.Helper()
	return newAgentWith(t, state, func(o *agent.Options) { o.Capabilities = []string{protocol.CapSchedule} })
}

// newAgentWith is the agent of state with test options changed by set and
// the receivers of the daemon, in its order; it is closed at the end of t.
func newAgentWith(t *testing.T, state string, set func(*agent.Options)) *agent.Agent {
	t.Helper()
	o := agent.Options{
		StateDir: state, Version: "1.80.0", Capabilities: []string{protocol.CapSchedule, protocol.CapInventory},
		Facts: func() protocol.Facts { return testFacts }, Retries: 1,
	}
	set(&o)
	a, err := agent.New(o)
	if err != nil {
		t.Fatalf("new agent: %v", err)
	}
	a.RegisterReceiver(agent.ScriptsReceiver(a))
	a.RegisterReceiver(agent.InventoryReceiver(a))
	a.RegisterReceiver(agent.CatalogReceiver(a))
	a.RegisterReceiver(agent.OnboardingReceiver(a))
	t.Cleanup(a.Close)
	return a
}

// script stores a script and distributes a script configuration of it to
// all devices; it returns the script's and the configuration's ids.
func (e *env) script(body string, decls []store.InputDecl, inputs ...string) (scriptID, configID string) {
	e.t.Helper()
	sc := e.addScript(body, decls)
	return sc.ID, e.assign(server.ScriptRequest{Script: sc.ID, Inputs: inputs}, "all")
}

// addScript stores a script under a fresh name.
func (e *env) addScript(body string, decls []store.InputDecl) store.Script {
	e.t.Helper()
	e.mu.Lock()
	e.scripts++
	n := e.scripts
	e.mu.Unlock()
	sc, err := e.srv.AddScript(context.Background(), fmt.Sprintf("test script %d", n), "", []byte(body), decls)
	if err != nil {
		e.t.Fatal(err)
	}
	return sc
}

// assign adds a script configuration distributed to the targets.
func (e *env) assign(req server.ScriptRequest, to ...string) string {
	e.t.Helper()
	c, _, err := e.srv.Assign(context.Background(), "", "", req, to)
	if err != nil {
		e.t.Fatal(err)
	}
	return c.ID
}

func (e *env) results() []store.StoredResult {
	e.t.Helper()
	rs, err := e.srv.Store.Results(context.Background(), store.ResultFilter{})
	if err != nil {
		e.t.Fatal(err)
	}
	return rs
}

func (e *env) config(kv ...string) {
	e.t.Helper()
	if _, err := e.srv.UpdateConfiguration(context.Background(), "default", server.ConfigUpdate{Settings: kv}); err != nil {
		e.t.Fatal(err)
	}
}
