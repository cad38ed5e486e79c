package server

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/protocol/schedule"
	"github.com/mobileatwork/mobileatwork/server/distribution"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// issueDevice makes a device key and has the tenant CA issue its
// certificate, as enrollment does.
func issueDevice(t testing.TB, s *Server, id string) (*x509.Certificate, *rsa.PrivateKey) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 3072)
	if err != nil {
		t.Fatal(err)
	}
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: id}}, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := s.Tenant.IssueDevice(csr, id, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

// benchDevice enrolls a device at the store level with a real certificate,
// so that key envelopes are sealed to it as at a check-in.
func benchDevice(b testing.TB, s *Server, id string) (store.Device, *x509.Certificate) {
	b.Helper()
	cert, _ := issueDevice(b, s, id)
	d := store.Device{ID: id, User: "ada@example.com", Capabilities: []string{protocol.CapSchedule}, EnrolledAt: time.Now()}
	if err := s.Store.CreateDevice(context.Background(), d); err != nil {
		b.Fatal(err)
	}
	return d, cert
}

// BenchmarkCheckinTenantSize measures the server's side of one check-in of
// a device that one script configuration reaches, in a tenant that holds
// 0 or 10,000 other one-device script configurations (and their devices):
// the work follows the device, not the tenant. Each is measured built in
// full and answered "unchanged", and reports its ratio to the same kind
// of check-in with no other configuration, measured in the same run
// (x_others0_ns), and the same for the process's CPU time per check-in
// (cpu_ns/op, x_others0_cpu), the steadier figure on a shared machine.
func BenchmarkCheckinTenantSize(b *testing.B) {
	base, baseCPU := map[bool]float64{}, map[bool]float64{}
	for _, others := range []int{0, 10_000} {
		for _, unchanged := range []bool{false, true} {
			name := fmt.Sprintf("full/others=%d", others)
			if unchanged {
				name = fmt.Sprintf("unchanged/others=%d", others)
			}
			b.Run(name, func(b *testing.B) {
				s, d, cert, req := tenantWithOthers(b, others)
				if unchanged {
					p, _ := signedCheckin(b, s, d, req, cert)
					req.PayloadDigest = protocol.ContentDigest(p)
				}
				var cpu time.Duration
				for b.Loop() {
					if cpu == 0 {
						cpu = processCPU(b)
					}
					p, _ := signedCheckin(b, s, d, req, cert)
					if p.Unchanged != unchanged || (!unchanged && len(p.Assignments) != 1) {
						b.Fatalf("unchanged %v, %d assignments; want unchanged %v", p.Unchanged, len(p.Assignments), unchanged)
					}
				}
				ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
				cpuNs := float64((processCPU(b) - cpu).Nanoseconds()) / float64(b.N)
				if others == 0 {
					base[unchanged], baseCPU[unchanged] = ns, cpuNs
				}
				b.ReportMetric(cpuNs, "cpu_ns/op")
				if base[unchanged] > 0 && baseCPU[unchanged] > 0 {
					b.ReportMetric(ns/base[unchanged], "x_others0_ns")
					b.ReportMetric(cpuNs/baseCPU[unchanged], "x_others0_cpu")
				}
			})
		}
	}
}

// tenantWithOthers is benchServer with one script configuration for the
// device and others one-device configurations for other devices, and the
// device's check-in request.
func tenantWithOthers(b *testing.B, others int) (*Server, store.Device, *x509.Certificate, protocol.CheckinRequest) {
	s, d, cert, sc := benchServer(b)
	ctx := context.Background()
	if _, _, err := s.Assign(ctx, "mine", "", ScriptRequest{Script: sc.ID}, []string{"device:dev_bench"}); err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	for i := range others {
		id := fmt.Sprintf("dev_other%05d", i)
		if err := s.Store.CreateDevice(ctx, store.Device{ID: id, EnrolledAt: now}); err != nil {
			b.Fatal(err)
		}
		c := store.Configuration{ID: fmt.Sprintf("cfg_other%05d", i), Kind: store.KindScript, Name: id, Version: 1,
			Script: store.ScriptSettings{ScriptID: sc.ID, RunAs: protocol.RunAsRoot}, CreatedAt: now, UpdatedAt: now,
			Targets: []distribution.Target{{Kind: distribution.Device, Value: id}}}
		c.Script.Schedule.Kind = "once"
		if err := s.Store.CreateConfiguration(ctx, c); err != nil {
			b.Fatal(err)
		}
	}
	req := protocol.CheckinRequest{ProtocolVersion: protocol.Version, DeviceID: d.ID, AgentVersion: "1.80.0",
		Capabilities: d.Capabilities, Nonce: make([]byte, 32)}
	return s, d, cert, req
}

// benchServer is a tenant whose default Mobile@Work configuration reaches
// every device, with one enrolled device and one script.
func benchServer(b *testing.B) (*Server, store.Device, *x509.Certificate, store.Script) {
	s, err := Init(b.TempDir()+"/data", "Bench", nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	s.seen.start() // check-in times gathered, as Serve does
	ctx := context.Background()
	if _, err := s.Distribute(ctx, "default", []string{"all"}, false); err != nil {
		b.Fatal(err)
	}
	d, cert := benchDevice(b, s, "dev_bench")
	sc, err := s.AddScript(ctx, "bench", "", []byte("true\n"), nil)
	if err != nil {
		b.Fatal(err)
	}
	return s, d, cert, sc
}

// benchTenant is a tenant whose device n daily script configurations
// reach, with a check-in request of an agent that holds no payload.
func benchTenant(b *testing.B, n int) (*Server, store.Device, *x509.Certificate, protocol.CheckinRequest) {
	s, d, cert, sc := benchServer(b)
	ctx := context.Background()
	daily := schedule.Spec{Kind: schedule.Daily, At: "09:00"}
	for i := range n {
		if _, _, err := s.Assign(ctx, fmt.Sprintf("c%03d", i), "", ScriptRequest{Script: sc.ID, Schedule: &daily}, []string{"all"}); err != nil {
			b.Fatal(err)
		}
	}
	req := protocol.CheckinRequest{ProtocolVersion: protocol.Version, DeviceID: d.ID, AgentVersion: "1.80.0",
		Capabilities: d.Capabilities, Nonce: make([]byte, 32)}
	return s, d, cert, req
}

// signedCheckin is the server's side of one check-in up to the signed
// answer; it returns the answer's size.
func signedCheckin(b *testing.B, s *Server, d store.Device, req protocol.CheckinRequest, cert *x509.Certificate) (protocol.CheckinPayload, int) {
	// The device as the handler reads it for each request.
	d, err := s.Store.Device(context.Background(), d.ID)
	if err != nil {
		b.Fatal(err)
	}
	p, _, err := s.checkin(context.Background(), d, req, cert)
	if err != nil {
		b.Fatal(err)
	}
	signed, err := protocol.SignCheckin(p, s.Tenant.Signing)
	if err != nil {
		b.Fatal(err)
	}
	return p, len(signed)
}

// BenchmarkCheckinUnchanged compares a check-in answered "unchanged" (the
// agent holds the current payload) with a full one, for a device 0, 1, 10
// or 100 script configurations reach. Besides ns/op and the signed answer's
// bytes, each reports both as ratios to the first sub-benchmark, a full
// check-in with no assignment, measured in the same run (x_full0_ns,
// x_full0_bytes; absent when a -bench pattern leaves that one out).
func BenchmarkCheckinUnchanged(b *testing.B) {
	var baseNs, baseBytes float64
	for _, unchanged := range []bool{false, true} {
		for _, n := range []int{0, 1, 10, 100} {
			name := fmt.Sprintf("full/assignments=%d", n)
			if unchanged {
				name = fmt.Sprintf("unchanged/assignments=%d", n)
			}
			b.Run(name, func(b *testing.B) {
				s, d, cert, req := benchTenant(b, n)
				p, _ := signedCheckin(b, s, d, req, cert) // seals the envelopes, records the statuses
				if len(p.Assignments) != n {
					b.Fatalf("%d assignments, want %d", len(p.Assignments), n)
				}
				if unchanged {
					req.PayloadDigest = protocol.ContentDigest(p)
				}
				size := 0
				b.ResetTimer()
				for b.Loop() {
					p, size = signedCheckin(b, s, d, req, cert)
					if p.Unchanged != unchanged {
						b.Fatalf("unchanged = %v, want %v", p.Unchanged, unchanged)
					}
				}
				ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
				if !unchanged && n == 0 {
					baseNs, baseBytes = ns, float64(size) // the last (longest) round's
				}
				b.ReportMetric(float64(size), "resp_bytes")
				if baseNs > 0 && baseBytes > 0 {
					b.ReportMetric(ns/baseNs, "x_full0_ns")
					b.ReportMetric(float64(size)/baseBytes, "x_full0_bytes")
				}
			})
		}
	}
}
