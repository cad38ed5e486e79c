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
