package e2e

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/agent"
	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/pki"
	"github.com/mobileatwork/mobileatwork/server/store"
)

func TestScriptRunsWithInputsAndReportsExitCode(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	state := e.enroll()
	marker := filepath.Join(t.TempDir(), "ran")
	_, asg := e.script("#!/bin/sh\necho \"hello-$1\"\necho \"serial=$MAW_INPUT_SERIAL\"\necho oops >&2\ntouch "+marker+"\nexit 3\n",
		[]store.InputDecl{{Label: "Who", Name: "who", Default: "world"}, {Label: "Serial", Name: "serial", Default: "{$deviceSerialNumber}"}})
	a := newAgent(t, state)
	if err := a.Cycle(context.Background()); err != nil {
		t.Fatalf("cycle: %v", err)
	}
	rs := e.results()
	if len(rs) != 1 {
		t.Fatalf("got %d results, want 1", len(rs))
	}
	r := rs[0]
	if r.Status != protocol.StatusFailed || r.ExitCode != 3 || r.AssignmentID != asg {
		t.Fatalf("result = %s exit %d (%s), want failed exit 3", r.Status, r.ExitCode, r.Error)
	}
	if r.Stdout != "hello-world\nserial=C02E2ETEST\n" || r.Stderr != "oops\n" {
		t.Fatalf("stdout %q stderr %q", r.Stdout, r.Stderr)
	}
	if _, err := os.Stat(marker); err != nil {
		t.Fatalf("script did not run: %v", err)
	}

	// Run once: the next check-in does not run it again.
	os.Remove(marker)
	if err := a.Cycle(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(e.results()); n != 1 {
		t.Fatalf("run-once script produced %d results after two check-ins", n)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("run-once script ran twice")
	}
	// Not even from a fresh process reading the same state.
	if err := newAgent(t, state).Cycle(context.Background()); err != nil || len(e.results()) != 1 {
		t.Fatalf("after restart: %v, %d results", err, len(e.results()))
	}
}

func TestTimeoutAndOutputCap(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	state := e.enroll()
	e.config("max_execution_seconds=1", "max_response_kb=1", "kill_grace_seconds=1")
	e.script("head -c 5000 /dev/zero | tr '\\0' a\nsleep 30\n", nil)
	start := time.Now()
	if err := newAgent(t, state).Cycle(context.Background()); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("a 1 s limit took %s", d)
	}
	r := e.results()[0]
	if r.Status != protocol.StatusTimedOut || !r.Truncated || r.StdoutBytes != 5000 || len(r.Stdout) > 1100 {
		t.Fatalf("result = %s truncated=%v bytes=%d kept=%d", r.Status, r.Truncated, r.StdoutBytes, len(r.Stdout))
	}
}

func TestTamperedBlobIsRejectedAndNotRun(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	state := e.enroll()
	marker := filepath.Join(t.TempDir(), "ran")
	sid, _ := e.script("touch "+marker+"\n", nil)
	sc, err := e.srv.Store.Script(context.Background(), sid)
	if err != nil {
		t.Fatal(err)
	}
	blob, err := filePath(e.srv, sc.BlobSHA256)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(blob)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x01
	os.WriteFile(blob, b, 0o600)

	if err := newAgent(t, state).Cycle(context.Background()); err != nil {
		t.Fatal(err)
	}
	r := e.results()[0]
	if r.Status != protocol.StatusRejected || !strings.Contains(r.Error, "mismatch") {
		t.Fatalf("result = %s %q, want rejected for a digest mismatch", r.Status, r.Error)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("a tampered script ran")
	}
}

// resign replaces check-in responses with the same payload signed by s.
func resign(e *env, s protocol.Signer) func(http.ResponseWriter, *http.Request, http.Handler) {
	return func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		if r.URL.Path != protocol.PathCheckin {
			next.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		content, err := protocol.Verify(rec.Body.Bytes(), protocol.Pinned{Cert: e.srv.Tenant.Signing.Cert})
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		p, err := protocol.Sign(content, s)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Write(p)
	}
}

func TestResponseSignedByAnotherTenantIsRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	state := e.enroll()
	marker := filepath.Join(t.TempDir(), "ran")
	e.script("touch "+marker+"\n", nil)
	other, err := pki.Create(filepath.Join(t.TempDir(), "other"), "Other tenant", nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	e.setIntercept(resign(e, other.Signing))
	err = newAgent(t, state).Cycle(context.Background())
	if !errors.Is(err, protocol.ErrWrongSigner) {
		t.Fatalf("cycle = %v, want ErrWrongSigner", err)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("script ran from a response signed by another tenant")
	}
	// The same payload signed by the right tenant passes: the refusal was the signer's.
	e.setIntercept(resign(e, e.srv.Tenant.Signing))
	if err := newAgent(t, state).Cycle(context.Background()); err != nil {
		t.Fatalf("re-signed by the tenant: %v", err)
	}
}

func TestReplayedResponseIsRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	state := e.enroll()
	var first []byte
	e.setIntercept(func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		if r.URL.Path != protocol.PathCheckin {
			next.ServeHTTP(w, r)
			return
		}
		if first != nil {
			w.Write(first) // an attacker replays a genuine, earlier response
			return
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		first = rec.Body.Bytes()
		w.Write(first)
	})
	a := newAgent(t, state)
	if err := a.Cycle(context.Background()); err != nil {
		t.Fatalf("first cycle: %v", err)
	}
	if err := a.Cycle(context.Background()); !errors.Is(err, protocol.ErrNonceMismatch) {
		t.Fatalf("replayed response: %v, want ErrNonceMismatch", err)
	}
}

func TestEnrollmentRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	other := newEnv(t)
	enroll := func(tok, url string) error {
		_, err := agent.Enroll(context.Background(), agent.EnrollOptions{
			StateDir: filepath.Join(t.TempDir(), "s"), ServerURL: url, Token: tok, Facts: testFacts,
		})
		return err
	}
	used := e.token(1, time.Hour)
	if err := enroll(used, e.url); err != nil {
		t.Fatal(err)
	}
	unknown, err := protocol.NewEnrollToken(e.srv.Tenant.CAPin()) // right pin, secret never issued
	if err != nil {
		t.Fatal(err)
	}
	// A token that expired an hour ago, stored as CreateToken stores one.
	expired, err := protocol.NewEnrollToken(e.srv.Tenant.CAPin())
	if err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Store.CreateToken(context.Background(), store.Token{Hash: expired.SecretHash(), UsesLeft: 1,
		ExpiresAt: time.Now().Add(-time.Hour), CreatedAt: time.Now().Add(-2 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, token, url, want string
		is                     error
	}{
		{"reused", used, e.url, "already used", nil},
		{"expired", expired.String(), e.url, "expired", nil},
		{"garbage", "hello", e.url, "", protocol.ErrBadToken},
		{"unknown secret", unknown.String(), e.url, "unknown", nil},
		// A token of another tenant pins another CA: the server is refused before the secret leaves.
		{"server not pinned", other.token(1, time.Hour), e.url, "", agent.ErrPinMismatch},
		{"plain http", e.token(1, time.Hour), strings.Replace(e.url, "https", "http", 1), "https", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := enroll(tt.token, tt.url)
			if err == nil {
				t.Fatal("enrollment succeeded")
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Fatalf("err = %v, want %v", err, tt.is)
			}
			if tt.want != "" && !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to say %q", err, tt.want)
			}
		})
	}
	devs, _ := e.srv.Store.Devices(context.Background())
	if len(devs) != 1 {
		t.Fatalf("%d devices after refusals, want only the first", len(devs))
	}
}

func TestResultsQueuedWhileServerUnreachable(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	state := e.enroll()
	e.script("echo queued\n", nil)
	e.setIntercept(func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		if r.URL.Path == protocol.PathResults {
			http.Error(w, `{"error":"down for maintenance"}`, http.StatusBadGateway)
			return
		}
		next.ServeHTTP(w, r)
	})
	a := newAgent(t, state)
	if err := a.Cycle(context.Background()); err == nil {
		t.Fatal("cycle succeeded although results could not be delivered")
	}
	if st := a.Status(); st.Queued != 1 || len(e.results()) != 0 {
		t.Fatalf("queued=%d delivered=%d, want 1 and 0", st.Queued, len(e.results()))
	}
	// The server is gone entirely: the check-in fails and the result stays.
	e.ts.CloseClientConnections()
	e.setIntercept(func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		hj, _ := w.(http.Hijacker)
		c, _, _ := hj.Hijack()
		c.Close()
	})
	if err := a.Cycle(context.Background()); err == nil {
		t.Fatal("cycle succeeded with the server unreachable")
	}
	e.setIntercept(nil)
	if err := newAgent(t, state).Cycle(context.Background()); err != nil {
		t.Fatal(err)
	}
	rs := e.results()
	if len(rs) != 1 || rs[0].Stdout != "queued\n" {
		t.Fatalf("after recovery: %+v", rs)
	}
}

func TestDeviceRoutesNeedTheDeviceCertificate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.ts.Client() // trusts the server, shows no certificate
	resp, err := c.Post(e.url+protocol.PathCheckin, "application/json", bytes.NewReader([]byte(`{}`)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("check-in without a certificate: %d, want 401", resp.StatusCode)
	}
}
