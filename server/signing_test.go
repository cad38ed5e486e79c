package server

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/store"
)

func initTestTenant(t *testing.T) *Server {
	t.Helper()
	s, err := Init(filepath.Join(t.TempDir(), "data"), "Acme", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// While a rotation keeps the previous signing certificate, agents that trust
// only the certificate they pinned get what they can check; the others the
// new one. Blobs, shared by all, stay with the previous one.
func TestSignerDuringRotation(t *testing.T) {
	s := initTestTenant(t)
	first := s.Tenant.Signing
	chain := []string{protocol.CapSchedule, protocol.CapSignerChain}
	old := []string{protocol.CapSchedule}
	if !s.signerFor(old).Cert.Equal(first.Cert) || !s.signerFor(chain).Cert.Equal(first.Cert) || !s.blobSigner().Cert.Equal(first.Cert) {
		t.Fatal("before a rotation, everything is signed by the tenant's signing certificate")
	}
	r, err := s.RotateSigning(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	next := s.Tenant.Signing
	tests := []struct {
		name string
		got  protocol.Signer
		want protocol.Signer
	}{
		{"agent trusting by chain", s.signerFor(chain), next},
		{"agent of an earlier release", s.signerFor(old), first},
		{"script blobs", s.blobSigner(), first},
	}
	for _, tt := range tests {
		if !tt.got.Cert.Equal(tt.want.Cert) {
			t.Errorf("%s: signed by %x, want %x", tt.name, tt.got.Cert.SerialNumber, tt.want.Cert.SerialNumber)
		}
	}
	// Once the previous one expired, blobs are signed by the new one.
	s.Now = func() time.Time { return first.Cert.NotAfter.Add(time.Second) }
	if !s.blobSigner().Cert.Equal(next.Cert) {
		t.Error("script blobs signed by an expired previous signing certificate")
	}
	s.Now = time.Now
	if r.Serial != certSerial(next.Cert) || r.Previous != certSerial(first.Cert) {
		t.Errorf("rotation = %+v", r)
	}
	// A reopened server (serve restarted) signs the same way.
	reopened, err := Open(s.Data)
	if err != nil {
		t.Fatal(err)
	}
	defer reopened.Close()
	if !reopened.signerFor(chain).Cert.Equal(next.Cert) || !reopened.signerFor(old).Cert.Equal(first.Cert) {
		t.Fatal("the reopened server signs otherwise")
	}
}

func TestRetireSigning(t *testing.T) {
	s := initTestTenant(t)
	ctx := context.Background()
	sc, err := s.AddScript(ctx, "hello", "", []byte("#!/bin/sh\necho hello\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.RetireSigning(ctx, false); err == nil {
		t.Fatal("retired with nothing rotated")
	}
	if _, err := s.RotateSigning(ctx); err != nil {
		t.Fatal(err)
	}
	rotatedAt := s.Tenant.Signing.Cert.NotBefore
	for _, d := range []store.Device{
		{ID: "dev-new", Capabilities: []string{protocol.CapSignerChain}, EnrolledAt: rotatedAt.Add(-time.Hour), LastCheckin: rotatedAt.Add(time.Minute)},
		{ID: "dev-away", Capabilities: []string{protocol.CapSignerChain}, EnrolledAt: rotatedAt.Add(-time.Hour), LastCheckin: rotatedAt.Add(-time.Minute)},
		{ID: "dev-old", EnrolledAt: rotatedAt.Add(-time.Hour), LastCheckin: rotatedAt.Add(time.Minute)},
		{ID: "dev-gone", EnrolledAt: rotatedAt.Add(-time.Hour), Left: true},
	} {
		if err := s.Store.CreateDevice(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	r, err := s.RetireSigning(ctx, false)
	if !errors.Is(err, ErrSignerInUse) {
		t.Fatalf("retire = %v, want ErrSignerInUse", err)
	}
	if len(r.NotCheckedIn) != 1 || r.NotCheckedIn[0] != "dev-away" || len(r.OldAgents) != 1 || r.OldAgents[0] != "dev-old" || r.Done {
		t.Fatalf("refusal = %+v; want dev-away not checked in, dev-old an old agent", r)
	}
	if len(r.Unaware) != 3 {
		t.Fatalf("unaware of retirements: %v; want the three devices still enrolled", r.Unaware)
	}
	prev := s.Tenant.Previous.Cert
	if s.Tenant.Previous == nil {
		t.Fatal("a refused retirement retired")
	}
	if r, err = s.RetireSigning(ctx, true); err != nil || !r.Done || r.Resealed != 1 {
		t.Fatalf("forced retirement = %+v, %v", r, err)
	}
	// The script is now signed by the certificate in use alone, at the
	// same version.
	got, err := s.Store.Script(ctx, sc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != 1 || got.BlobSHA256 == sc.BlobSHA256 {
		t.Fatalf("script after retirement: version %d, blob %s (was %s)", got.Version, got.BlobSHA256, sc.BlobSHA256)
	}
	blob, err := s.Files.Get(got.BlobSHA256, protocol.MaxBlobBody)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := protocol.OpenScript(blob, got.BlobKey, protocol.Pinned{Cert: s.Tenant.Signing.Cert}); err != nil {
		t.Fatalf("resealed blob: %v", err)
	}
	reopened, err := Open(s.Data)
	if err != nil {
		t.Fatal(err)
	}
	defer reopened.Close()
	if reopened.Tenant.Previous != nil {
		t.Fatal("the retired certificate is still kept")
	}
	// Agents that keep the list are told of it, by this server and once
	// serve restarted; the others are not, so what they hold stays as it is.
	fp := protocol.Fingerprint(prev)
	for name, srv := range map[string]*Server{"retiring": s, "reopened": reopened} {
		if got := srv.retiredFor([]string{protocol.CapSignerChain, protocol.CapRetiredSigners}); len(got) != 1 || got[0] != fp {
			t.Errorf("%s server lists %v, want %s", name, got, fp)
		}
		if got := srv.retiredFor([]string{protocol.CapSignerChain}); got != nil {
			t.Errorf("%s server lists %v to an agent that does not keep them", name, got)
		}
		d, err := srv.Doctor(ctx)
		if err != nil || d.RetiredSigners != 1 {
			t.Errorf("%s server's doctor: %d retired signers, %v; want 1", name, d.RetiredSigners, err)
		}
	}
}
