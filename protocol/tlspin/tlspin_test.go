package tlspin

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"testing"
	"time"
)

func cert(t *testing.T, tmpl, parent *x509.Certificate, pub, signer any) *x509.Certificate {
	t.Helper()
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// chain is a CA and a server leaf for host, as the server sends them.
func chain(t *testing.T, host string) (leaf, ca *x509.Certificate) {
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Now()
	caT := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Tenant CA"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	ca = cert(t, caT, caT, &caKey.PublicKey, caKey)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	lt := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: host}, DNSNames: []string{host}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	return cert(t, lt, ca, &key.PublicKey, caKey), ca
}

func TestVerify(t *testing.T) {
	leaf, ca := chain(t, "mdm.example.com")
	_, other := chain(t, "mdm.example.com")
	pin := sha256.Sum256(ca.Raw)
	cases := []struct {
		name  string
		certs []*x509.Certificate
		host  string
		pin   [32]byte
		ok    bool
	}{
		{"the pinned CA", []*x509.Certificate{leaf, ca}, "mdm.example.com", pin, true},
		{"another CA's pin", []*x509.Certificate{leaf, ca}, "mdm.example.com", sha256.Sum256(other.Raw), false},
		{"a chain without its CA", []*x509.Certificate{leaf}, "mdm.example.com", pin, false},
		{"the pinned CA beside a leaf it did not sign", []*x509.Certificate{leaf, other, ca}, "mdm.example.com", sha256.Sum256(other.Raw), false},
		{"another host name", []*x509.Certificate{leaf, ca}, "evil.example.com", pin, false},
		{"no certificate", nil, "mdm.example.com", pin, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := Verify(tls.ConnectionState{PeerCertificates: tc.certs}, tc.host, tc.pin)
			if tc.ok != (err == nil) || (!tc.ok && !errors.Is(err, ErrMismatch)) {
				t.Errorf("Verify: %v, want ok=%v", err, tc.ok)
			}
		})
	}
}
