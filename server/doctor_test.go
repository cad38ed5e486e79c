package server

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/pki"
	"github.com/mobileatwork/mobileatwork/server/store"
)

func TestDoctorCertificates(t *testing.T) {
	s := initTestTenant(t)
	ca, signing, tls := s.Tenant.CA.NotAfter, s.Tenant.Signing.Cert.NotAfter, s.Tenant.TLS.Leaf.NotAfter
	const day = 24 * time.Hour
	tests := []struct {
		name string
		at   time.Time
		want map[string]string // certificate: start of its action, "" for none
	}{
		{"a new tenant", time.Now(), map[string]string{"ca": "", "signing": "", "tls": ""}},
		{"leaves within 30 days", signing.Add(-10 * day), map[string]string{"ca": "", "signing": "expires in 10 days", "tls": "expires in"}},
		{"leaves just over 30 days", minT(signing, tls).Add(-31 * day), map[string]string{"ca": "", "signing": "", "tls": ""}},
		{"leaves expired", tls.Add(day), map[string]string{"ca": "", "signing": "expired", "tls": "expired"}},
		{"the CA within 180 days", ca.Add(-179 * day), map[string]string{"ca": "expires in 179 days", "signing": "expired", "tls": "expired"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.Now = func() time.Time { return tt.at }
			d, err := s.Doctor(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			needs := false
			for _, c := range d.Certificates {
				want, ok := tt.want[c.Name]
				if !ok {
					t.Errorf("unexpected certificate %q", c.Name)
					continue
				}
				if (want == "") != (c.Action == "") || !strings.HasPrefix(c.Action, want) {
					t.Errorf("%s: action %q, want %q", c.Name, c.Action, want)
				}
				needs = needs || want != ""
			}
			if len(d.Certificates) != len(tt.want) || d.NeedsAction() != needs {
				t.Errorf("certificates %+v, needs action %v; want %d, %v", d.Certificates, d.NeedsAction(), len(tt.want), needs)
			}
		})
	}
}

// Renewing the server TLS certificate is what doctor's action on it asks.
func TestDoctorAfterRenewTLS(t *testing.T) {
	s := initTestTenant(t)
	at := s.Tenant.TLS.Leaf.NotAfter.Add(-10 * 24 * time.Hour)
	s.Now = func() time.Time { return at }
	tlsAction := func() string {
		d, err := s.Doctor(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range d.Certificates {
			if c.Name == "tls" {
				return c.Action
			}
		}
		t.Fatal("no tls certificate in the report")
		return ""
	}
	if a := tlsAction(); !strings.Contains(a, "pki renew-tls") {
		t.Fatalf("action %q, want pki renew-tls", a)
	}
	if _, _, err := s.RenewTLS(context.Background()); err != nil {
		t.Fatal(err)
	}
	if a := tlsAction(); a != "" {
		t.Fatalf("after renew-tls: %q, want nothing to do", a)
	}
	reopened, err := Open(s.Data)
	if err != nil {
		t.Fatal(err)
	}
	defer reopened.Close()
	if !reopened.Tenant.TLS.Leaf.Equal(s.Tenant.TLS.Leaf) {
		t.Fatal("the reopened server serves another TLS certificate")
	}
}

func minT(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func TestDoctorDevices(t *testing.T) {
	s := initTestTenant(t)
	ctx := context.Background()
	now := time.Now().UTC()
	s.Now = func() time.Time { return now }
	const day = 24 * time.Hour
	renew := []string{protocol.CapRenew}
	for _, d := range []store.Device{
		{ID: "fine", Capabilities: renew, CertNotAfter: now.Add(200 * day), EnrolledAt: now},
		{ID: "offline", Capabilities: renew, CertNotAfter: now.Add(20 * day), EnrolledAt: now, LastCheckin: now.Add(-300 * day)},
		{ID: "old-agent", CertNotAfter: now.Add(50 * day), EnrolledAt: now},
		{ID: "unconfirmed", Capabilities: renew, CertNotAfter: now.Add(10 * day), PendingSerial: "ab", PendingNotAfter: now.Add(700 * day), EnrolledAt: now},
		{ID: "expired", Capabilities: renew, CertNotAfter: now.Add(-day), EnrolledAt: now},
		{ID: "left", CertNotAfter: now.Add(day), EnrolledAt: now, Left: true},
		// Enrolled before expiries were recorded: two years after enrollment.
		{ID: "unrecorded", Capabilities: renew, EnrolledAt: now.Add(-pki.DeviceValidity + 5*day)},
		{ID: "unrecorded-fine", Capabilities: renew, EnrolledAt: now.Add(-day)},
	} {
		if err := s.Store.CreateDevice(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	d, err := s.Doctor(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"offline":     "not renewed",
		"old-agent":   "its agent does not renew",
		"unconfirmed": "renewed, but",
		"expired":     "certificate expired",
		"unrecorded":  "not renewed",
	}
	if len(d.Devices) != len(want) || !d.NeedsAction() {
		t.Fatalf("devices = %+v, want %d of them", d.Devices, len(want))
	}
	for _, dev := range d.Devices {
		if w, ok := want[dev.ID]; !ok || !strings.HasPrefix(dev.Action, w) {
			t.Errorf("%s: %q, want %q", dev.ID, dev.Action, w)
		}
	}
}
