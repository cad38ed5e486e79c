package protocol

import (
	"crypto/x509"
	"errors"
	"strings"
	"testing"
	"time"
)

// A retired signer is refused by its fingerprint though its chain is
// valid, with the error naming it; others stay trusted.
func TestChainRefusesRetired(t *testing.T) {
	f := newFixture(t)
	now := time.Now()
	retired := f.ca.mark(t, "signing 1", x509.ExtKeyUsageCodeSigning, true, now.Add(-time.Hour), now.Add(time.Hour))
	current := f.ca.mark(t, "signing 2", x509.ExtKeyUsageCodeSigning, true, now.Add(-time.Hour), now.Add(time.Hour))
	legacy := f.ca.mark(t, "legacy signing", x509.ExtKeyUsageCodeSigning, false, now.Add(-time.Hour), now.Add(time.Hour))
	set := func(certs ...*x509.Certificate) func(string) bool {
		m := map[string]bool{}
		for _, c := range certs {
			m[Fingerprint(c)] = true
		}
		return func(fp string) bool { return m[fp] }
	}
	tests := []struct {
		name           string
		pinned, signer *x509.Certificate
		retired        func(string) bool
		ok             bool
	}{
		{"no list: the current signer", current, current, nil, true},
		{"no list: a signer valid by chain", current, retired, nil, true},
		{"the current signer, another retired", current, current, set(retired), true},
		{"the retired signer", current, retired, set(retired), false},
		{"the retired signer, pinned at enrollment", retired, retired, set(retired), false},
		{"a legacy pinned signer, retired", legacy, legacy, set(legacy), false},
	}
	// A signer verified, and so cached, before it was retired is refused
	// all the same.
	cache := new(TrustCache)
	for _, c := range []*x509.Certificate{retired, current} {
		if err := (Chain{CA: f.ca.cert, Cache: cache}).Trust(c); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Chain{CA: f.ca.cert, Pinned: tt.pinned, Retired: tt.retired, Cache: cache}.Trust(tt.signer)
			if tt.ok {
				if err != nil {
					t.Fatalf("Trust = %v, want trusted", err)
				}
				return
			}
			wantErr(t, err, ErrRetiredSigner)
			wantErr(t, err, ErrWrongSigner)
			if !strings.Contains(err.Error(), Fingerprint(tt.signer)) || !strings.Contains(err.Error(), tt.signer.Subject.CommonName) {
				t.Fatalf("error %q does not name the signer", err)
			}
		})
	}
}

func TestCheckFingerprints(t *testing.T) {
	fp := strings.Repeat("ab", 32)
	tests := []struct {
		name string
		fps  []string
		ok   bool
	}{
		{"none", nil, true},
		{"one", []string{fp}, true},
		{"upper case", []string{strings.ToUpper(fp)}, false},
		{"short", []string{fp[:62]}, false},
		{"not hex", []string{strings.Repeat("zz", 32)}, false},
		{"too many", make([]string, MaxRetiredSigners+1), false},
	}
	for _, tt := range tests {
		if err := CheckFingerprints(tt.fps); (err == nil) != tt.ok {
			t.Errorf("%s: CheckFingerprints = %v, want ok %t", tt.name, err, tt.ok)
		}
	}
}

// A retirement changes the content digest, so a device holding the
// content before it gets a full answer; no list leaves the digest of
// older agents as it was.
func TestContentDigestCoversRetiredSigners(t *testing.T) {
	p := CheckinPayload{Config: DefaultConfig}
	before := ContentDigest(p)
	p.RetiredSigners = []string{}
	if ContentDigest(p) != before {
		t.Fatal("an empty list changed the digest")
	}
	p.RetiredSigners = []string{strings.Repeat("ab", 32)}
	if ContentDigest(p) == before {
		t.Fatal("a retirement left the digest as it was")
	}
}

// A signed answer whose list an agent must not keep is refused whole.
func TestOpenCheckinChecksRetiredSigners(t *testing.T) {
	f := newFixture(t)
	now := time.Now()
	nonce := make([]byte, 32)
	tests := []struct {
		name string
		list []string
		ok   bool
	}{
		{"none", nil, true},
		{"a fingerprint", []string{strings.Repeat("0f", 32)}, true},
		{"not a fingerprint", []string{"signing 1"}, false},
	}
	for _, tt := range tests {
		signed, err := SignCheckin(CheckinPayload{ProtocolVersion: Version, DeviceID: "device-a", Nonce: nonce, IssuedAt: now, ExpiresAt: now.Add(time.Minute), RetiredSigners: tt.list}, f.signer)
		if err != nil {
			t.Fatal(err)
		}
		p, err := OpenCheckin(signed, Pinned{f.signer.Cert}, "device-a", nonce, now)
		if tt.ok && (err != nil || len(p.RetiredSigners) != len(tt.list)) {
			t.Errorf("%s: OpenCheckin = %v, %v", tt.name, p.RetiredSigners, err)
		}
		if !tt.ok && !errors.Is(err, ErrBadEnvelope) {
			t.Errorf("%s: OpenCheckin = %v, want ErrBadEnvelope", tt.name, err)
		}
	}
}
