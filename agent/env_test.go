package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server"
)

// testEnv is a tenant server on loopback and one device enrolled with it.
// It records the check-in requests and can corrupt the script blobs it
// serves.
type testEnv struct {
	srv   *server.Server
	state string

	// conns counts TLS connections accepted; resumed counts the requests
	// that arrived on a resumed TLS session.
	conns, resumed atomic.Int32

	mu       sync.Mutex
	checkins []protocol.CheckinRequest
	tamper   bool
	oversize int // answer the next check-ins with this many bytes of nothing
	// wake, when set, answers the wake requests instead of the server;
	// started likewise the run start notices, and files the app files.
	wake, started, files http.HandlerFunc
}

func newTestEnv(t *testing.T) *testEnv {
	t.Helper()
	srv, err := server.Init(filepath.Join(t.TempDir(), "data"), "Agent tests", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	if _, err := srv.Distribute(context.Background(), "default", []string{"all"}, false); err != nil {
		t.Fatal(err)
	}
	e := &testEnv{srv: srv, state: filepath.Join(t.TempDir(), "state")}
	h := srv.Handler()
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS != nil && r.TLS.DidResume {
			e.resumed.Add(1)
		}
		e.mu.Lock()
		wake, started, files := e.wake, e.started, e.files
		e.mu.Unlock()
		switch {
		case r.URL.Path == protocol.PathWake && wake != nil:
			wake(w, r)
			return
		case r.URL.Path == protocol.PathRunStarted && started != nil:
			started(w, r)
			return
		case strings.HasPrefix(r.URL.Path, "/v1/apps/") && files != nil:
			files(w, r)
			return
		case r.URL.Path == protocol.PathCheckin:
			body, _ := io.ReadAll(r.Body)
			var req protocol.CheckinRequest
			if err := json.Unmarshal(body, &req); err != nil {
				t.Errorf("check-in request: %v", err)
			}
			e.mu.Lock()
			e.checkins = append(e.checkins, req)
			over := e.oversize
			if over > 0 {
				e.oversize = 0
			}
			e.mu.Unlock()
			if over > 0 {
				w.Write(make([]byte, over))
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		case strings.HasPrefix(r.URL.Path, protocol.PathBlob) && e.tampering():
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			b := rec.Body.Bytes()
			if len(b) > 0 {
				b[len(b)-1] ^= 1
			}
			w.WriteHeader(rec.Code)
			w.Write(b)
			return
		}
		h.ServeHTTP(w, r)
	}))
	ts.TLS = srv.TLSConfig()
	ts.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			e.conns.Add(1)
		}
	}
	ts.StartTLS()
	t.Cleanup(ts.Close)

	ctx := context.Background()
	tok, err := srv.CreateToken(ctx, "ada@example.com", 1, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Enroll(ctx, EnrollOptions{
		StateDir: e.state, ServerURL: ts.URL, Token: tok,
		Facts: protocol.Facts{SerialNumber: "C02AGENT", AgentVersion: "1.80.0"},
	}); err != nil {
		t.Fatalf("enroll: %v", err)
	}
	return e
}

func (e *testEnv) tampering() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.tamper
}

func (e *testEnv) setTamper(on bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.tamper = on
}

// lastCheckin is the latest check-in request the server received.
func (e *testEnv) lastCheckin(t *testing.T) protocol.CheckinRequest {
	t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.checkins) == 0 {
		t.Fatal("no check-in reached the server")
	}
	return e.checkins[len(e.checkins)-1]
}

// agent is the enrolled device's agent with o's fields, the state
// directory and test defaults filled in, and the receivers of the daemon.
func (e *testEnv) agent(t *testing.T, o Options) *Agent {
	t.Helper()
	o.StateDir, o.Version, o.Retries = e.state, "1.80.0", 1
	a, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []Receiver{ScriptsReceiver(a), InventoryReceiver(a), CatalogReceiver(a), OnboardingReceiver(a)} {
		a.RegisterReceiver(r)
	}
	return a
}
