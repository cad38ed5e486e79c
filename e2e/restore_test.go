package e2e

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/agent"
	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server"
)

// serveOn serves s on addr ("127.0.0.1:0" picks a port) until the returned
// stop is called.
func serveOn(t *testing.T, s *server.Server, addr string) (string, func()) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(s.Handler())
	ts.Listener.Close()
	ts.Listener = ln
	ts.TLS = s.TLSConfig()
	ts.StartTLS()
	return ts.URL, ts.Close
}

// A server whose database was lost refuses to start; restored from a
// backup made while it served, the device checks in again as it was and
// its scripts keep running once. Not parallel: the restored server must get
// its old port back, which another test could take meanwhile.
func TestRestoredTenantKeepsItsDevices(t *testing.T) {
	ctx := context.Background()
	data := filepath.Join(t.TempDir(), "data")
	s, err := server.Init(data, "Test tenant", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Distribute(ctx, "default", []string{"all"}, false); err != nil {
		t.Fatal(err)
	}
	url, stop := serveOn(t, s, "127.0.0.1:0")
	tok, err := s.CreateToken(ctx, "ada@example.com", 1, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(t.TempDir(), "state")
	if _, err := agent.Enroll(ctx, agent.EnrollOptions{StateDir: state, ServerURL: url, Token: tok, Facts: testFacts,
		Capabilities: []string{protocol.CapSchedule}}); err != nil {
		t.Fatal(err)
	}
	counter := filepath.Join(t.TempDir(), "count")
	sc, err := s.AddScript(ctx, "count", "", []byte("echo run >> "+counter+"\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Assign(ctx, "", "", server.ScriptRequest{Script: sc.ID}, []string{"all"}); err != nil {
		t.Fatal(err)
	}
	if err := newAgent(t, state).Cycle(ctx); err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(t.TempDir(), "backup")
	if err := s.Backup(ctx, backup); err != nil { // while serving
		t.Fatal(err)
	}
	addr := url[len("https://"):]
	stop()
	s.Close()

	for _, f := range []string{"tenant.db", "tenant.db-wal", "tenant.db-shm"} {
		os.Remove(filepath.Join(data, f))
	}
	if _, err := server.Open(data); !errors.Is(err, server.ErrDatabaseLost) {
		t.Fatalf("Open without a database = %v, want ErrDatabaseLost", err)
	}
	_, stderr, code := run(t, "mobileatwork-server", "devices", "--data", data)
	oneErrorLine(t, stderr, code, "restore it from a backup")
	if _, stderr, code := run(t, "mobileatwork-server", "restore", "--data", data, "--from", backup); code != 0 {
		t.Fatalf("restore: %s", stderr)
	}
	s, err = server.Open(data)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, stop = serveOn(t, s, addr) // the address the agent knows
	defer stop()
	a := newAgent(t, state)
	if err := a.Cycle(ctx); err != nil {
		var he *agent.HTTPError
		if errors.As(err, &he) && he.Status == http.StatusForbidden {
			t.Fatalf("the restored tenant refused its device: %v", err)
		}
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(counter); string(b) != "run\n" {
		t.Fatalf("script runs after restore: %q, want one", b)
	}
}
