package pki

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestRenewTLS(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	now := time.Date(2027, 6, 1, 12, 0, 0, 0, time.UTC)
	created, err := Create(dir, "Acme", []string{"maw.example.com", "10.0.0.5"}, now)
	if err != nil {
		t.Fatal(err)
	}
	legacyCrt, _ := os.ReadFile(filepath.Join(dir, TLSCertFile))
	legacyKey, _ := os.ReadFile(filepath.Join(dir, TLSKeyFile))
	later := now.Add(700 * 24 * time.Hour)
	if _, err := RenewTLS(dir, later); err != nil {
		t.Fatal(err)
	}
	check := func(t *testing.T) {
		t.Helper()
		loaded, err := Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		old, leaf := created.TLS.Leaf, loaded.TLS.Leaf
		if leaf.Equal(old) || !leaf.NotAfter.Equal(minTime(later.Add(tlsValidity), loaded.CA.NotAfter)) {
			t.Fatalf("TLS certificate not renewed: expires %s", leaf.NotAfter)
		}
		if !slices.Equal(leaf.DNSNames, old.DNSNames) || len(leaf.IPAddresses) != len(old.IPAddresses) {
			t.Fatalf("names %v %v, want %v %v", leaf.DNSNames, leaf.IPAddresses, old.DNSNames, old.IPAddresses)
		}
		if len(loaded.TLS.Certificate) != 2 {
			t.Fatalf("chain of %d certificates, want leaf and CA", len(loaded.TLS.Certificate))
		}
	}
	check(t)
	if fi, err := os.Stat(filepath.Join(dir, TLSFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("%s: %v; want mode 0600", TLSFile, err)
	}
	for _, name := range []string{TLSCertFile, TLSKeyFile} {
		if _, err := os.Stat(filepath.Join(dir, name)); !os.IsNotExist(err) {
			t.Fatalf("%s left: %v", name, err)
		}
	}
	// A kill before the files of init went: the renewed one is used.
	os.WriteFile(filepath.Join(dir, TLSCertFile), legacyCrt, 0o644)
	os.WriteFile(filepath.Join(dir, TLSKeyFile), legacyKey, 0o600)
	check(t)
}
