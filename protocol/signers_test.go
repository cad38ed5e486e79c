package protocol

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"testing"
	"time"
)

// mark issues a certificate of ca for a fresh key, with the signing
// policy when policy says so, valid from nb to na.
func (ca *testCA) mark(t testing.TB, cn string, eku x509.ExtKeyUsage, policy bool, nb, na time.Time) *x509.Certificate {
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
	// With a cache, the same answers twice: a signer verified once stays
	// trusted, and a refused one is never remembered.
	cache := new(TrustCache)
	for _, round := range []string{"", "cached/", "cached again/"} {
		for _, tt := range tests {
			t.Run(round+tt.name, func(t *testing.T) {
				ch := Chain{CA: f.ca.cert, Pinned: tt.pinned}
				if round != "" {
					ch.Cache = cache
				}
				err := ch.Trust(tt.signer)
				if tt.ok && err != nil {
					t.Fatalf("Trust = %v, want trusted", err)
				}
				if !tt.ok {
					wantErr(t, err, ErrWrongSigner)
					if cache.verified(Fingerprint(tt.signer), f.ca.cert, now) {
						t.Fatal("a refused signer was remembered")
					}
				}
			})
		}
	}
	t.Run("no CA", func(t *testing.T) {
		wantErr(t, Chain{Pinned: marked}.Trust(marked), ErrWrongSigner)
	})
	t.Run("at the clock's time", func(t *testing.T) {
		later := func() time.Time { return now.Add(2 * time.Hour) }
		wantErr(t, Chain{CA: f.ca.cert, Now: later}.Trust(marked), ErrWrongSigner)
	})
	t.Run("cached, then expired", func(t *testing.T) {
		cache := new(TrustCache)
		at := now
		ch := Chain{CA: f.ca.cert, Now: func() time.Time { return at }, Cache: cache}
		if err := ch.Trust(marked); err != nil {
			t.Fatal(err)
		}
		if !cache.verified(Fingerprint(marked), f.ca.cert, at) {
			t.Fatal("a verified signer was not remembered")
		}
		at = now.Add(2 * time.Hour)
		wantErr(t, ch.Trust(marked), ErrWrongSigner)
	})
	t.Run("cached under another CA", func(t *testing.T) {
		cache := new(TrustCache)
		if err := (Chain{CA: f.ca.cert, Cache: cache}).Trust(marked); err != nil {
			t.Fatal(err)
		}
		wantErr(t, Chain{CA: f.otherCA.cert, Cache: cache}.Trust(marked), ErrWrongSigner)
	})
	t.Run("bounded", func(t *testing.T) {
		cache := new(TrustCache)
		for i := range 3 * maxTrusted {
			c := valid(f.ca, fmt.Sprint("signing ", i), x509.ExtKeyUsageCodeSigning, true)
			if err := (Chain{CA: f.ca.cert, Cache: cache}).Trust(c); err != nil {
				t.Fatal(err)
			}
			if n := len(cache.m); n > maxTrusted {
				t.Fatalf("%d signers remembered, at most %d", n, maxTrusted)
			}
		}
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

// BenchmarkChainTrust measures trusting the tenant's signer, as every
// verified message does, without a cache (the baseline) and with one, in
// the same run; x_uncached is the ratio of their times.
func BenchmarkChainTrust(b *testing.B) {
	f := newFixture(b)
	now := time.Now()
	signer := f.ca.mark(b, "signing", x509.ExtKeyUsageCodeSigning, true, now.Add(-time.Hour), now.Add(time.Hour))
	var base float64
	for _, cached := range []bool{false, true} {
		name := "baseline=uncached"
		ch := Chain{CA: f.ca.cert}
		if cached {
			name, ch.Cache = "cached", new(TrustCache)
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if err := ch.Trust(signer); err != nil {
					b.Fatal(err)
				}
			}
			ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			if !cached {
				base = ns
			} else if base > 0 {
				b.ReportMetric(ns/base, "x_uncached")
			}
		})
	}
}
