package server

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/protocol"
)

// testCSR is a certificate request for a fresh device key.
func testCSR(t *testing.T) []byte {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 3072)
	if err != nil {
		t.Fatal(err)
	}
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "mac"}}, key)
	if err != nil {
		t.Fatal(err)
	}
	return csr
}

// A revoked token is refused like a used or expired one: 401 with the
// reason, not an internal error.
func TestEnrollRefusesRevokedToken(t *testing.T) {
	s := newTenant(t)
	ctx := t.Context()
	token, err := s.CreateToken(ctx, "ada@example.com", 1, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	ts, err := s.Tokens(ctx)
	if err != nil || len(ts) != 1 {
		t.Fatalf("tokens: %v, %v", ts, err)
	}
	if _, err := s.RevokeToken(ctx, ts[0].ID); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(protocol.EnrollRequest{ProtocolVersion: protocol.Version, Token: token, CSR: testCSR(t)})
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, httptest.NewRequestWithContext(ctx, "POST", protocol.PathEnroll, bytes.NewReader(b)))
	var e protocol.Error
	json.Unmarshal(w.Body.Bytes(), &e)
	if w.Code != http.StatusUnauthorized || !strings.HasPrefix(e.Error, "enrollment token refused") || !strings.Contains(e.Error, "revoked") {
		t.Fatalf("enroll with a revoked token: %d %q; want 401 saying it is revoked", w.Code, e.Error)
	}
}

// enrollAs posts an enrollment from addr and returns the answer.
func enrollAs(t *testing.T, h http.Handler, addr string, req protocol.EnrollRequest) *httptest.ResponseRecorder {
	t.Helper()
	b, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequestWithContext(t.Context(), "POST", protocol.PathEnroll, bytes.NewReader(b))
	r.RemoteAddr = addr
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// The token is checked before the certificate request, and used only
// once the request is sound: a bad token is refused as such whatever the
// CSR, and a bad CSR does not burn a good token.
func TestEnrollChecksTheTokenFirst(t *testing.T) {
	s := newTenant(t)
	ctx := t.Context()
	h := s.Handler()
	unknown, err := protocol.NewEnrollToken(s.Tenant.CAPin())
	if err != nil {
		t.Fatal(err)
	}
	good, err := s.CreateToken(ctx, "", 1, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		token string
		csr   []byte
		code  int
		says  string
	}{
		{"unknown token, bad CSR", unknown.String(), []byte("not a CSR"), http.StatusUnauthorized, "enrollment token refused"},
		{"good token, bad CSR", good, []byte("not a CSR"), http.StatusBadRequest, "certificate request refused"},
		{"good token, bad CSR again", good, []byte("still not a CSR"), http.StatusBadRequest, "certificate request refused"},
		{"good token, good CSR", good, testCSR(t), http.StatusOK, ""},
		{"the token is used now", good, testCSR(t), http.StatusUnauthorized, "already used"},
	}
	for _, tt := range tests {
		w := enrollAs(t, h, "192.0.2.1:1234", protocol.EnrollRequest{ProtocolVersion: protocol.Version, Token: tt.token, CSR: tt.csr})
		var e protocol.Error
		json.Unmarshal(w.Body.Bytes(), &e)
		if w.Code != tt.code || !strings.Contains(e.Error, tt.says) {
			t.Errorf("%s: %d %q, want %d saying %q", tt.name, w.Code, e.Error, tt.code, tt.says)
		}
	}
	if ds, _ := s.Store.Devices(ctx); len(ds) != 1 {
		t.Errorf("%d devices, want the one enrolled", len(ds))
	}
}

// Enrollment attempts are limited per source address, whatever their
// outcome: over the burst, 429 with Retry-After until the bucket refills;
// another address is not held back.
func TestEnrollIsRateLimitedPerAddress(t *testing.T) {
	s := newTenant(t)
	now := time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)
	s.Now = func() time.Time { return now }
	s.EnrollLimit = EnrollLimit{PerMinute: 6, Burst: 2}
	h := s.Handler()
	bad := protocol.EnrollRequest{ProtocolVersion: protocol.Version, Token: "guess"}
	for i := range 2 {
		if w := enrollAs(t, h, "198.51.100.7:4000", bad); w.Code != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d, want 401 (within the burst)", i+1, w.Code)
		}
	}
	w := enrollAs(t, h, "198.51.100.7:4001", bad)
	var e protocol.Error
	json.Unmarshal(w.Body.Bytes(), &e)
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "10" || !strings.Contains(e.Error, "too many enrollment attempts") {
		t.Fatalf("over the burst: %d Retry-After %q %q, want 429, 10 s", w.Code, w.Header().Get("Retry-After"), e.Error)
	}
	if w := enrollAs(t, h, "203.0.113.5:4000", bad); w.Code != http.StatusUnauthorized {
		t.Errorf("another address: %d, want 401", w.Code)
	}
	now = now.Add(10 * time.Second)
	if w := enrollAs(t, h, "198.51.100.7:4002", bad); w.Code != http.StatusUnauthorized {
		t.Errorf("after Retry-After: %d, want 401", w.Code)
	}
	// A server told not to limit (a lab enrolling a simulated fleet).
	off := newTenant(t)
	off.EnrollLimit = EnrollLimit{PerMinute: -1}
	ho := off.Handler()
	for i := range DefaultEnrollBurst + 5 {
		if w := enrollAs(t, ho, "198.51.100.7:4000", bad); w.Code != http.StatusUnauthorized {
			t.Fatalf("attempt %d without a limit: %d", i+1, w.Code)
		}
	}
}
