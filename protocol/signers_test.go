package protocol

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"testing"
	"time"
)

// mark issues a certificate of ca for a fresh key, with the signing
// policy when policy says so, valid from nb to na.
func (ca *testCA) mark(t *testing.T, cn string, eku x509.ExtKeyUsage, policy bool, nb, na time.Time) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: testSerial(t), Subject: pkix.Name{CommonName: cn},
		NotBefore: nb, NotAfter: na, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{eku},
	}
	if policy {
		tmpl.Policies = []x509.OID{SigningPolicy}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestChainTrust(t *testing.T) {
	f := newFixture(t)
	now := time.Now()
	valid := func(c *testCA, cn string, eku x509.ExtKeyUsage, policy bool) *x509.Certificate {
		return c.mark(t, cn, eku, policy, now.Add(-time.Hour), now.Add(time.Hour))
	}
	marked := valid(f.ca, "signing", x509.ExtKeyUsageCodeSigning, true)
	rotated := valid(f.ca, "signing 2", x509.ExtKeyUsageCodeSigning, true)
	legacy := valid(f.ca, "legacy signing", x509.ExtKeyUsageCodeSigning, false)
	expiredLegacy := f.ca.mark(t, "old legacy", x509.ExtKeyUsageCodeSigning, false, now.Add(-2*time.Hour), now.Add(-time.Hour))
	expiredMarked := f.ca.mark(t, "old signing", x509.ExtKeyUsageCodeSigning, true, now.Add(-2*time.Hour), now.Add(-time.Hour))
	tests := []struct {
		name           string
		pinned, signer *x509.Certificate
		ok             bool
	}{
		{"the pinned signer, marked", marked, marked, true},
		{"a rotated signer of the same CA", marked, rotated, true},
		{"a rotated signer, after a legacy pin", legacy, rotated, true},
		{"the legacy pinned signer, by its bytes", legacy, legacy, true},
		{"the legacy pinned signer after it expired, as before", expiredLegacy, expiredLegacy, true},
		{"an unmarked signer that is not the pinned one", marked, legacy, false},
		{"an expired marked signer, even pinned", expiredMarked, expiredMarked, false},
		{"not yet valid, beyond the clock skew", marked, f.ca.mark(t, "future", x509.ExtKeyUsageCodeSigning, true, now.Add(ClockSkew+time.Hour), now.Add(ClockSkew+2*time.Hour)), false},
		{"made a moment ahead of a slow device clock", marked, f.ca.mark(t, "ahead", x509.ExtKeyUsageCodeSigning, true, now.Add(time.Hour), now.Add(2*time.Hour)), true},
		{"marked by another tenant's CA", marked, valid(f.otherCA, "globex signing", x509.ExtKeyUsageCodeSigning, true), false},
		{"marked, but for TLS", marked, valid(f.ca, "tls", x509.ExtKeyUsageServerAuth, true), false},
		{"a device certificate of the tenant", marked, f.devA, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Chain{CA: f.ca.cert, Pinned: tt.pinned}.Trust(tt.signer)
			if tt.ok && err != nil {
				t.Fatalf("Trust = %v, want trusted", err)
			}
			if !tt.ok {
				wantErr(t, err, ErrWrongSigner)
			}
		})
	}
	t.Run("no CA", func(t *testing.T) {
		wantErr(t, Chain{Pinned: marked}.Trust(marked), ErrWrongSigner)
	})
	t.Run("at the clock's time", func(t *testing.T) {
		later := func() time.Time { return now.Add(2 * time.Hour) }
		wantErr(t, Chain{CA: f.ca.cert, Now: later}.Trust(marked), ErrWrongSigner)
	})
}

// A check-in signed by a rotated signing certificate opens on a device
// that pinned the one before it.
func TestOpenCheckinSignedByRotatedSigner(t *testing.T) {
	f := newFixture(t)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	s := Signer{Cert: f.ca.mark(t, "signing 2", x509.ExtKeyUsageCodeSigning, true, now.Add(-time.Hour), now.Add(time.Hour)), Key: key}
	// mark made its own key: issue again for this one.
	tmpl := *s.Cert
	der, err := x509.CreateCertificate(rand.Reader, &tmpl, f.ca.cert, &key.PublicKey, f.ca.key)
	if err != nil {
		t.Fatal(err)
	}
	if s.Cert, err = x509.ParseCertificate(der); err != nil {
		t.Fatal(err)
	}
	nonce := make([]byte, 32)
	signed, err := SignCheckin(CheckinPayload{DeviceID: "device-a", Nonce: nonce, IssuedAt: now, ExpiresAt: now.Add(time.Minute)}, s)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenCheckin(signed, Chain{CA: f.ca.cert, Pinned: f.signer.Cert}, "device-a", nonce, now); err != nil {
		t.Fatalf("OpenCheckin = %v, want the rotated signer trusted", err)
	}
	if _, err := OpenCheckin(signed, Pinned{f.signer.Cert}, "device-a", nonce, now); err == nil {
		t.Fatal("pinned by bytes, the rotated signer was trusted")
	}
}
