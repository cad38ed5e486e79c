package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/mobileatwork/mobileatwork/server/store/postgres/pgtest"
)

// pgTenant inits a tenant kept in a fresh PostgreSQL schema, the DSN given
// by file as an administrator would, and returns its data directory.
func pgTenant(t *testing.T) string {
	t.Helper()
	work := t.TempDir()
	data, dsnFile := filepath.Join(work, "data"), filepath.Join(work, "dsn")
	if err := os.WriteFile(dsnFile, []byte(pgtest.DSN(t)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := run(t, "mobileatwork-server", "init", "--data", data, "--store", "postgres", "--dsn-file", dsnFile); code != 0 {
		t.Fatal(stderr)
	}
	return data
}

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// admin runs a server command on the tenant; later commands find the
// database in the data directory without flags.
func admin(t *testing.T, data string, args ...string) string {
	t.Helper()
	out, stderr, code := run(t, "mobileatwork-server", append(args, "--data", data)...)
	if code != 0 {
		t.Fatalf("%s: %s", strings.Join(args, " "), stderr)
	}
	return strings.TrimSpace(out)
}

type pgResult struct {
	RunID      string `json:"run_id"`
	ConfigName string `json:"config_name"`
	Status     string `json:"status"`
	Stdout     string `json:"stdout"`
}

func pgResults(t *testing.T, data string) []pgResult {
	t.Helper()
	var rs []pgResult
	if err := json.Unmarshal([]byte(admin(t, data, "results", "--json")), &rs); err != nil {
		t.Fatal(err)
	}
	return rs
}

// addScripts adds n run-once scripts distributed to everyone; each prints
// its name.
func addScripts(t *testing.T, data string, n int) {
	t.Helper()
	for i := range n {
		name := fmt.Sprintf("pg-%d", i)
		body := filepath.Join(t.TempDir(), name+".sh")
		if err := os.WriteFile(body, []byte("echo "+name+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		admin(t, data, "script", "add", "--name", name, "--file", body)
		admin(t, data, "assign", "--name", name, "--script", name, "--to", "all")
	}
}

func enrollAt(t *testing.T, data, addr string) string {
	t.Helper()
	state := filepath.Join(t.TempDir(), "state")
	tok := lastLine(admin(t, data, "token", "create"))
	if _, stderr, code := run(t, "mobileatwork", "enroll", "--server", "https://"+addr, "--token", tok, "--state-dir", state); code != 0 {
		t.Fatal(stderr)
	}
	return state
}

func TestPostgresServe(t *testing.T) {
	data := pgTenant(t)
	if _, err := os.Stat(filepath.Join(data, "tenant.db")); err == nil {
		t.Fatal("a PostgreSQL tenant made a tenant.db")
	}
	srv := &soakServer{t: t, data: data, addr: freeAddr(t)}
	srv.start()
	defer srv.kill()
	admin(t, data, "config", "distribute", "default", "--to", "all")
	addScripts(t, data, 1)
	state := enrollAt(t, data, srv.addr)
	for range 2 {
		if _, stderr, code := run(t, "mobileatwork", "checkin", "--state-dir", state); code != 0 {
			t.Fatal(stderr)
		}
	}
	rs := pgResults(t, data)
	if len(rs) != 1 || rs[0].Status != "succeeded" || strings.TrimSpace(rs[0].Stdout) != "pg-0" {
		t.Fatalf("results = %+v; want one succeeded run printing pg-0", rs)
	}
}

// roundRobin forwards each TCP connection to the next of the backends in
// turn, counting them: TLS stays end to end, so the agent talks to each
// replica as it would behind a load balancer.
type roundRobin struct {
	ln       net.Listener
	backends []string
	next     atomic.Uint64
	served   []atomic.Int64
	wg       sync.WaitGroup
}

func newRoundRobin(t *testing.T, backends ...string) *roundRobin {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &roundRobin{ln: ln, backends: backends, served: make([]atomic.Int64, len(backends))}
	p.wg.Go(p.accept)
	t.Cleanup(func() { ln.Close(); p.wg.Wait() })
	return p
}

func (p *roundRobin) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		i := int(p.next.Add(1)-1) % len(p.backends)
		p.served[i].Add(1)
		p.wg.Go(func() { pipe(c, p.backends[i]) })
	}
}

func pipe(c net.Conn, to string) {
	defer c.Close()
	b, err := net.Dial("tcp", to)
	if err != nil {
		return
	}
	defer b.Close()
	done := make(chan struct{})
	go func() { io.Copy(b, c); b.(*net.TCPConn).CloseWrite(); close(done) }()
	io.Copy(c, b)
	c.(*net.TCPConn).CloseWrite()
	<-done
}

// replicaData is a data directory for another machine serving the tenant
// in data: copies of its keys and store record, nothing else.
func replicaData(t *testing.T, data string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "replica")
	err := filepath.WalkDir(data, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(data, p)
		switch {
		case d.IsDir() && (rel == "." || rel == "pki"):
			return os.MkdirAll(filepath.Join(dir, rel), 0o700)
		case d.IsDir():
			return filepath.SkipDir
		case rel != "store.json" && filepath.Dir(rel) != "pki":
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, rel), b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestPostgresTwoReplicas serves one tenant from two processes on one
// database, each with a data directory of its own, the agent's connections
// alternating between them: enrollment, check-ins, script fetches and
// results land on either, and each run-once script runs once with its
// result stored once.
func TestPostgresTwoReplicas(t *testing.T) {
	data := pgTenant(t)
	a := &soakServer{t: t, data: data, addr: freeAddr(t)}
	b := &soakServer{t: t, data: replicaData(t, data), addr: freeAddr(t)}
	a.start()
	defer a.kill()
	b.start()
	defer b.kill()
	lb := newRoundRobin(t, a.addr, b.addr)
	admin(t, data, "config", "distribute", "default", "--to", "all")
	const scripts = 4
	addScripts(t, data, scripts)
	state := enrollAt(t, data, lb.ln.Addr().String())
	for range 2 * scripts {
		if _, stderr, code := run(t, "mobileatwork", "checkin", "--state-dir", state); code != 0 {
			t.Fatal(stderr)
		}
	}
	for i := range lb.served {
		if lb.served[i].Load() == 0 {
			t.Fatalf("replica %d served no connection: the test did not alternate", i)
		}
	}
	perConfig := map[string]int{}
	for _, r := range pgResults(t, data) {
		if r.Status != "succeeded" {
			t.Errorf("result %+v did not succeed", r)
		}
		perConfig[r.ConfigName]++
	}
	for i := range scripts {
		if n := perConfig[fmt.Sprintf("pg-%d", i)]; n != 1 {
			t.Errorf("pg-%d has %d results, want 1 (all: %v)", i, n, perConfig)
		}
	}
}

// TestPostgresReplicasShareFiles adds a script through one replica's data
// directory and has the agent, enrolled at another replica whose directory
// holds only the keys and the store record, fetch and run it: the sealed
// blob is in the database, not in the first directory's files.
func TestPostgresReplicasShareFiles(t *testing.T) {
	dataA := pgTenant(t)
	dataB := replicaData(t, dataA)
	b := &soakServer{t: t, data: dataB, addr: freeAddr(t)}
	b.start()
	defer b.kill()
	admin(t, dataA, "config", "distribute", "default", "--to", "all")
	addScripts(t, dataA, 1)
	for _, dir := range []string{dataA, dataB} {
		if _, err := os.Stat(filepath.Join(dir, "files")); !os.IsNotExist(err) {
			t.Fatalf("%s has files/: %v", dir, err)
		}
	}
	state := enrollAt(t, dataB, b.addr)
	if _, stderr, code := run(t, "mobileatwork", "checkin", "--state-dir", state); code != 0 {
		t.Fatal(stderr)
	}
	rs := pgResults(t, dataB)
	if len(rs) != 1 || rs[0].Status != "succeeded" || strings.TrimSpace(rs[0].Stdout) != "pg-0" {
		t.Fatalf("results = %+v; want one succeeded run printing pg-0", rs)
	}
}
