package server

import (
	"crypto/x509"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/mobileatwork/mobileatwork/protocol"
)

// BenchmarkParallelCheckins serves a check-in and a one-result upload per
// op through the whole device handler, from many devices at once, and
// reports how many answers were 500 and 503. Run it on two commits to
// compare the store and the overload handling.
func BenchmarkParallelCheckins(b *testing.B) {
	s, err := Init(b.TempDir()+"/data", "Bench", nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	s.seen.start() // check-in times gathered, as Serve does
	if _, err := s.Distribute(b.Context(), "default", []string{"all"}, false); err != nil {
		b.Fatal(err)
	}
	const devices = 128
	certs := make([]*x509.Certificate, devices)
	ids := make([]string, devices)
	for i := range devices {
		ids[i] = fmt.Sprintf("dev_%03d", i)
		certs[i] = fakeDevice(b, s, ids[i], int64(i+1))
	}
	cfg := sentTo(b, s, ids...)
	h := s.Handler()
	var seq, e500, e503 atomic.Int64
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := seq.Add(1)
			cert := certs[i%devices]
			id := cert.Subject.CommonName
			res := protocol.Result{RunID: fmt.Sprint("run-", i), DeviceID: id, AssignmentID: cfg, Status: protocol.StatusSucceeded, Stdout: "ok"}
			for _, code := range []int{
				deviceRequest(h, cert, protocol.PathCheckin, checkinBody(id)).Code,
				deviceRequest(h, cert, protocol.PathResults, protocol.ResultsRequest{DeviceID: id, Results: []protocol.Result{res}}).Code,
			} {
				switch code {
				case http.StatusInternalServerError:
					e500.Add(1)
				case http.StatusServiceUnavailable:
					e503.Add(1)
				}
			}
		}
	})
	b.ReportMetric(float64(e500.Load())/float64(b.N), "500s/op")
	b.ReportMetric(float64(e503.Load())/float64(b.N), "503s/op")
}
