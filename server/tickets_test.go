package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
)

// tlsReplica serves s's device listener TLS on loopback and returns its
// address.
func tlsReplica(t *testing.T, s *Server) string {
	t.Helper()
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	ts.TLS = s.TLSConfig()
	ts.StartTLS()
	t.Cleanup(ts.Close)
	return ts.URL
}

// resumed makes one request to url on a new connection with the session
// cache given and tells whether its TLS session was resumed.
func resumed(t *testing.T, url string, ca *x509.Certificate, cache tls.ClientSessionCache, maxVersion uint16) bool {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	// The same server name for every replica: the cache is keyed by it.
	tr := &http.Transport{TLSClientConfig: &tls.Config{
		RootCAs: pool, ServerName: "localhost", ClientSessionCache: cache, MaxVersion: maxVersion,
	}}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	// The body is read so that a TLS 1.3 ticket, sent after the
	// handshake, reaches the cache.
	if _, err := resp.Body.Read(make([]byte, 16)); err != nil && err.Error() != "EOF" {
		t.Fatal(err)
	}
	return resp.TLS.DidResume
}

// A session made with one server process resumes on another process of the
// same tenant (a restart, or another replica) within a day of it; other
// tenants' and older sessions do not, and TLS 1.2 sessions resume only on
// the process that made them.
func TestSessionsResumeAcrossReplicas(t *testing.T) {
	a, other := newTenant(t), newTenant(t)
	now := time.Now()
	replica := func(offset time.Duration) *Server {
		b, err := Open(a.Data)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close() })
		b.Now = func() time.Time { return now.Add(offset) }
		return b
	}
	urlA := tlsReplica(t, a)
	tests := []struct {
		name       string
		to         func() (*Server, string)
		maxVersion uint16
		want       bool
	}{
		{"the same process", func() (*Server, string) { return a, urlA }, 0, true},
		{"another process, the same day", func() (*Server, string) { b := replica(0); return b, tlsReplica(t, b) }, 0, true},
		{"another process, the next day", func() (*Server, string) { b := replica(24 * time.Hour); return b, tlsReplica(t, b) }, 0, true},
		{"another process, two days on", func() (*Server, string) { b := replica(48 * time.Hour); return b, tlsReplica(t, b) }, 0, false},
		{"TLS 1.2, the same process", func() (*Server, string) { return a, urlA }, tls.VersionTLS12, true},
		{"TLS 1.2, another process", func() (*Server, string) { b := replica(0); return b, tlsReplica(t, b) }, tls.VersionTLS12, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cache := tls.NewLRUClientSessionCache(4)
			if resumed(t, urlA, a.Tenant.CA, cache, tt.maxVersion) {
				t.Fatal("the first connection resumed")
			}
			_, url := tt.to()
			if got := resumed(t, url, a.Tenant.CA, cache, tt.maxVersion); got != tt.want {
				t.Fatalf("resumed = %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("another tenant's keys open nothing", func(t *testing.T) {
		ta, err := newSessionTickets(a.Tenant.TLS.PrivateKey, now)
		if err != nil {
			t.Fatal(err)
		}
		to, err := newSessionTickets(other.Tenant.TLS.PrivateKey, now)
		if err != nil {
			t.Fatal(err)
		}
		ka, _ := ta.dayKey(utcDay(now))
		ko, _ := to.dayKey(utcDay(now))
		kn, _ := ta.dayKey(utcDay(now).AddDate(0, 0, 1))
		if ka == ko || ka == kn {
			t.Fatal("two tenants, or two days, share a ticket key")
		}
	})
}

// At midnight UTC the listener moves to the new day's key: a session made
// after it resumes on a replica two days after the old day, one made
// before does not.
func TestSessionTicketKeysMoveAtMidnight(t *testing.T) {
	a := newTenant(t)
	now := time.Now()
	day := utcDay(now)
	clock := clockwork.NewFakeClockAt(day.Add(24*time.Hour - time.Minute))
	a.Now = func() time.Time { return day }
	urlA := tlsReplica(t, a)
	b, err := Open(a.Data)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	b.Now = func() time.Time { return day.AddDate(0, 0, 2) }
	urlB := tlsReplica(t, b)

	before := tls.NewLRUClientSessionCache(4)
	resumed(t, urlA, a.Tenant.CA, before, 0)
	if resumed(t, urlB, a.Tenant.CA, before, 0) {
		t.Fatal("a session of two days before resumed")
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); a.sessionTickets().run(ctx, clock) }()
	defer func() { cancel(); <-done }()
	clock.BlockUntilContext(ctx, 1)
	clock.Advance(2 * time.Minute)
	clock.BlockUntilContext(ctx, 1) // waiting for the next midnight: the key moved

	after := tls.NewLRUClientSessionCache(4)
	resumed(t, urlA, a.Tenant.CA, after, 0)
	if !resumed(t, urlB, a.Tenant.CA, after, 0) {
		t.Fatal("a session made after midnight did not resume the next day")
	}
}
