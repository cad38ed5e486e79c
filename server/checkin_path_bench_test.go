package server

import (
	"context"
	"crypto/x509"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// BenchmarkUnchangedCheckinPath serves check-ins answered "unchanged"
// through the whole device handler (device lookup, decoding, the delivery
// check, signing), from 8 devices at once that one script configuration
// reaches, while results are committed beside them as in a fleet (each
// commit makes the readers' page caches stale). It reports the process's
// CPU time per check-in (cpu_ns/op; one answer in 16 is opened and
// checked, as an agent would), the figure to compare between two
// commits on a shared machine.
func BenchmarkUnchangedCheckinPath(b *testing.B) {
	s, _, _, sc := benchServer(b)
	const devices = 8
	var reqs [devices]protocol.CheckinRequest
	var certs [devices]*x509.Certificate
	for i := range devices {
		id := fmt.Sprintf("dev_path%d", i)
		cert, _ := issueDevice(b, s, id)
		d := store.Device{ID: id, CertSerial: certSerial(cert), Capabilities: []string{protocol.CapSchedule}, EnrolledAt: time.Now()}
		if err := s.Store.CreateDevice(b.Context(), d); err != nil {
			b.Fatal(err)
		}
		certs[i] = cert
		reqs[i] = protocol.CheckinRequest{ProtocolVersion: protocol.Version, DeviceID: d.ID, AgentVersion: "1.80.0",
			Capabilities: d.Capabilities, Nonce: make([]byte, 32)}
	}
	if _, _, err := s.Assign(b.Context(), "all", "", ScriptRequest{Script: sc.ID}, []string{"all"}); err != nil {
		b.Fatal(err)
	}
	h := s.Handler()
	for i := range devices {
		w := deviceRequest(h, certs[i], protocol.PathCheckin, reqs[i])
		if w.Code != http.StatusOK {
			b.Fatalf("first check-in: %d %s", w.Code, w.Body)
		}
		p, err := protocol.OpenCheckin(w.Body.Bytes(), protocol.Pinned{Cert: s.Tenant.Signing.Cert}, reqs[i].DeviceID, reqs[i].Nonce, time.Now())
		if err != nil {
			b.Fatal(err)
		}
		reqs[i].PayloadDigest = protocol.ContentDigest(p)
	}
	cfg := sentTo(b, s, reqs[0].DeviceID)
	var seq, notUnchanged atomic.Int64
	b.SetParallelism(4)
	cpu := processCPU(b)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := seq.Add(1)
			if i%20 == 0 { // a result beside every 20 check-ins, as a fleet's 5 %
				res := protocol.Result{RunID: fmt.Sprint("run-", i), DeviceID: reqs[0].DeviceID, AssignmentID: cfg, Status: protocol.StatusSucceeded, Stdout: "ok"}
				if w := servedRequest(h, certs[0], protocol.PathResults, protocol.ResultsRequest{DeviceID: reqs[0].DeviceID, Results: []protocol.Result{res}}); w.Code != http.StatusOK {
					b.Errorf("results: %d %s", w.Code, w.Body)
				}
			}
			k := i % devices
			w := servedRequest(h, certs[k], protocol.PathCheckin, reqs[k])
			if w.Code != http.StatusOK {
				b.Errorf("check-in: %d %s", w.Code, w.Body)
				continue
			}
			if i%16 != 0 { // opened in part only: the agent's work is not the server's
				continue
			}
			p, err := protocol.OpenCheckin(w.Body.Bytes(), protocol.Pinned{Cert: s.Tenant.Signing.Cert}, reqs[k].DeviceID, reqs[k].Nonce, time.Now())
			if err != nil || !p.Unchanged {
				notUnchanged.Add(1)
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64((processCPU(b)-cpu).Nanoseconds())/float64(b.N), "cpu_ns/op")
	if n := notUnchanged.Load(); n > 0 {
		b.Fatalf("%d of %d check-ins not answered unchanged", n, b.N)
	}
}

// servedRequest is deviceRequest with a context that can end, as a served
// request's does (the driver watches such a context during each query).
func servedRequest(h http.Handler, cert *x509.Certificate, path string, body any) *httptest.ResponseRecorder {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	return deviceRequestIn(ctx, h, cert, path, body)
}
