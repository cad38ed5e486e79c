package pki

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/protocol"
)

func TestRotateAndRetireSigning(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	// The pkcs7 library stamps signatures with the real time.
	now := time.Now()
	created, err := Create(dir, "Acme", nil, now)
	if err != nil {
		t.Fatal(err)
	}
	later := now.Add(time.Minute) // within the backdate: the real time is inside both
	rotated, err := RotateSigning(dir, later)
	if err != nil {
		t.Fatal(err)
	}
	if rotated.Previous == nil || !rotated.Previous.Cert.Equal(created.Signing.Cert) {
		t.Fatal("the signing certificate in use is not kept as the previous one")
	}
	if rotated.Signing.Cert.Equal(created.Signing.Cert) || !protocol.HasSigningPolicy(rotated.Signing.Cert) {
		t.Fatal("the new signing certificate is the old one, or lacks the signing policy")
	}
	if !rotated.Signing.Cert.NotAfter.After(created.Signing.Cert.NotAfter) {
		t.Fatal("the new signing certificate does not outlive the old one")
	}
	for _, name := range []string{SigningFile, PreviousSigningFile} {
		if fi, err := os.Stat(filepath.Join(dir, name)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v, mode %v; want 0600", name, err, fi.Mode())
		}
	}
	loaded, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !loaded.Signing.Cert.Equal(rotated.Signing.Cert) || loaded.Previous == nil || !loaded.Previous.Cert.Equal(created.Signing.Cert) {
		t.Fatal("Load does not give the rotated signer and the previous one")
	}
	// The server reads back what either signed.
	for _, s := range []protocol.Signer{loaded.Signing, *loaded.Previous} {
		der, err := protocol.Sign([]byte("x"), s)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := protocol.Verify(der, loaded.Signers()); err != nil {
			t.Fatalf("Signers refuses %s: %v", s.Cert.Subject.CommonName, err)
		}
	}
	if _, err := RotateSigning(dir, later); !errors.Is(err, ErrRotating) {
		t.Fatalf("second rotation = %v, want ErrRotating", err)
	}
	if _, err := RetireSigning(dir, later); err != nil {
		t.Fatal(err)
	}
	if loaded, err = Load(dir); err != nil || loaded.Previous != nil || !loaded.Signing.Cert.Equal(rotated.Signing.Cert) {
		t.Fatalf("after retirement: %v, previous %v; want the new signer alone", err, loaded.Previous)
	}
	if _, err := RetireSigning(dir, later); !errors.Is(err, ErrNoPrevious) {
		t.Fatalf("second retirement = %v, want ErrNoPrevious", err)
	}
	// And a second rotation, from a rotated tenant.
	if _, err := RotateSigning(dir, later.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
}

// A retirement lists the certificate it removes, once, in a file that
// loads with the tenant; a kill before the removal leaves it listed and
// kept, and running it again completes it without listing it twice.
func TestRetireSigningListsTheRetired(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	now := time.Date(2027, 6, 1, 12, 0, 0, 0, time.UTC)
	created, err := Create(dir, "Acme", nil, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := RotateSigning(dir, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	prev, err := os.ReadFile(filepath.Join(dir, PreviousSigningFile))
	if err != nil {
		t.Fatal(err)
	}
	retiredAt := now.Add(2 * time.Hour)
	for round := range 2 {
		if round == 1 {
			// As a kill after the list was written leaves it.
			if err := os.WriteFile(filepath.Join(dir, PreviousSigningFile), prev, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		got, err := RetireSigning(dir, retiredAt)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		loaded, err := Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		want := RetiredSigner{
			Serial: created.Signing.Cert.SerialNumber.Text(16), SHA256: protocol.Fingerprint(created.Signing.Cert),
			NotAfter: created.Signing.Cert.NotAfter.UTC(), RetiredAt: retiredAt,
		}
		for _, tn := range []*Tenant{got, loaded} {
			if tn.Previous != nil || len(tn.Retired) != 1 || !tn.Retired[0].NotAfter.Equal(want.NotAfter) ||
				tn.Retired[0].Serial != want.Serial || tn.Retired[0].SHA256 != want.SHA256 || !tn.Retired[0].RetiredAt.Equal(want.RetiredAt) {
				t.Fatalf("round %d: previous %v, retired %+v; want %+v alone", round, tn.Previous, tn.Retired, want)
			}
		}
		if fps := loaded.RetiredFingerprints(); len(fps) != 1 || fps[0] != want.SHA256 {
			t.Fatalf("fingerprints = %v", fps)
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, RetiredSigningFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("%s: %v, mode %v; want 0600", RetiredSigningFile, err, fi.Mode())
	}
	// A damaged list does not load as none, which would un-retire.
	if err := os.WriteFile(filepath.Join(dir, RetiredSigningFile), []byte(`[{"sha256":"zz"}]`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir); err == nil {
		t.Fatal("a damaged list of retired signers loaded")
	}
}

// A kill during a rotation leaves a tenant that loads, signing with the old
// certificate or the new one.
func TestRotationInterrupted(t *testing.T) {
	now := time.Date(2027, 6, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		// after a whole rotation, undo what the kill kept from happening
		undo        func(t *testing.T, dir string)
		wantRotated bool
	}{
		{"after the previous one was kept, before the switch", func(t *testing.T, dir string) {
			// The previous file is the certificate in use; signing.pem not yet.
			if err := os.Remove(filepath.Join(dir, SigningFile)); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"after the switch, before the first signer's files went", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "pki")
			created, err := Create(dir, "Acme", nil, now)
			if err != nil {
				t.Fatal(err)
			}
			crt, _ := os.ReadFile(filepath.Join(dir, SigningCertFile))
			key, _ := os.ReadFile(filepath.Join(dir, SigningKeyFile))
			if _, err := RotateSigning(dir, now.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			// The first signer's files come back, as a kill before their
			// removal leaves them.
			os.WriteFile(filepath.Join(dir, SigningCertFile), crt, 0o644)
			os.WriteFile(filepath.Join(dir, SigningKeyFile), key, 0o600)
			if tt.undo != nil {
				tt.undo(t, dir)
			}
			loaded, err := Load(dir)
			if err != nil {
				t.Fatalf("load after the kill: %v", err)
			}
			if got := !loaded.Signing.Cert.Equal(created.Signing.Cert); got != tt.wantRotated {
				t.Fatalf("rotated = %v, want %v", got, tt.wantRotated)
			}
			if !tt.wantRotated && loaded.Previous != nil {
				t.Fatal("a previous signer equal to the one in use is kept")
			}
			// Rotating again completes it.
			if _, err := RotateSigning(dir, now.Add(2*time.Hour)); tt.wantRotated != errors.Is(err, ErrRotating) {
				t.Fatalf("rotate again: %v", err)
			}
		})
	}
}
