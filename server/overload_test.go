package server

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// fakeDevice stores a device and returns the certificate its requests
// present. Requests are served in process with r.TLS filled in, so the
// certificate needs no key: nothing is sealed to it without scripts.
func fakeDevice(t testing.TB, s *Server, id string, serial int64) *x509.Certificate {
	t.Helper()
	cert := &x509.Certificate{Subject: pkix.Name{CommonName: id}, SerialNumber: big.NewInt(serial)}
	d := store.Device{ID: id, CertSerial: hex.EncodeToString(cert.SerialNumber.Bytes()), EnrolledAt: time.Now()}
	if err := s.Store.CreateDevice(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	return cert
}

// sentTo is a script configuration, distributed to no one, recorded as
// sent to the devices as a check-in records it (a key envelope sealed to
// each), so that their results of it are taken without a check-in sealing
// anything to certificates that have no key.
func sentTo(t testing.TB, s *Server, ids ...string) string {
	t.Helper()
	ctx := context.Background()
	sc, err := s.AddScript(ctx, fmt.Sprint("sent-", len(ids)), "", []byte("true\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	c, _, err := s.Assign(ctx, "", "", ScriptRequest{Script: sc.ID}, []string{"none"})
	if err != nil {
		t.Fatal(err)
	}
	var envs []store.KeyEnvelope
	for _, id := range ids {
		envs = append(envs, store.KeyEnvelope{DeviceID: id, ConfigID: c.ID, ConfigVersion: c.Version, BlobSHA256: sc.BlobSHA256,
			Envelope: []byte{1}, CreatedAt: time.Now()})
	}
	if err := s.Store.PutKeyEnvelopes(ctx, envs); err != nil {
		t.Fatal(err)
	}
	return c.ID
}

// deviceRequest serves one device request through the whole handler.
func deviceRequest(h http.Handler, cert *x509.Certificate, path string, body any) *httptest.ResponseRecorder {
	return deviceRequestIn(context.Background(), h, cert, path, body)
}

// deviceRequestIn is deviceRequest with the request's context.
func deviceRequestIn(ctx context.Context, h http.Handler, cert *x509.Certificate, path string, body any) *httptest.ResponseRecorder {
	b, _ := json.Marshal(body)
	r := httptest.NewRequestWithContext(ctx, http.MethodPost, path, bytes.NewReader(b))
	r.TLS = &tls.ConnectionState{VerifiedChains: [][]*x509.Certificate{{cert}}}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func checkinBody(id string) protocol.CheckinRequest {
	return protocol.CheckinRequest{ProtocolVersion: protocol.Version, DeviceID: id, AgentVersion: "1.80.0", Nonce: make([]byte, 32)}
}

// checkRetryAfter fails unless a 503 tells the agent when to come back.
func checkRetryAfter(t *testing.T, w *httptest.ResponseRecorder) {
	t.Helper()
	n, err := strconv.Atoi(w.Header().Get("Retry-After"))
	if err != nil || n < retryAfterMin || n > retryAfterMax {
		t.Errorf("503 with Retry-After %q, want %d to %d seconds", w.Header().Get("Retry-After"), retryAfterMin, retryAfterMax)
	}
}

// Requests over the in-flight limit are refused at once with 503 and
// Retry-After; a freed slot serves again.
func TestInFlightLimit(t *testing.T) {
	s := &Server{MaxInFlight: 2}
	s.Log = newTenant(t).Log
	entered, release := make(chan struct{}), make(chan struct{})
	h := s.limitInFlight(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hold" {
			entered <- struct{}{}
			<-release
		}
	}))
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() { h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/hold", nil)) })
		<-entered
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/now", nil))
	if w.Code != http.StatusServiceUnavailable {
		t.Fatalf("third request with 2 in flight: %d, want 503", w.Code)
	}
	checkRetryAfter(t, w)
	var e protocol.Error
	if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Error == "" {
		t.Errorf("503 body %q: want a protocol.Error", w.Body)
	}
	close(release)
	wg.Wait()
	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/now", nil))
	if w.Code != http.StatusOK {
		t.Fatalf("request after the slots were freed: %d, want 200", w.Code)
	}
}

// busyStore is a store that cannot take more writes.
type busyStore struct{ store.AllStorage }

func (busyStore) RecordCheckin(context.Context, string, store.Checkin) (string, error) {
	return "", fmt.Errorf("record: %w", store.ErrBusy)
}

func (busyStore) TouchCheckins(context.Context, map[string]time.Time) error {
	return fmt.Errorf("touch: %w", store.ErrBusy)
}

func (busyStore) PutResult(context.Context, protocol.Result, time.Time) (bool, error) {
	return false, fmt.Errorf("put: %w", store.ErrBusy)
}

func (busyStore) PutInventory(context.Context, string, protocol.InventoryReport, time.Time) error {
	return fmt.Errorf("put: %w", store.ErrBusy)
}

// A saturated store is 503 with Retry-After on every device route that
// writes, never 500, and no result is acknowledged.
func TestBusyStoreIs503(t *testing.T) {
	s := newTenant(t)
	cert := fakeDevice(t, s, "dev_busy", 1)
	cfg := sentTo(t, s, "dev_busy")
	s.Store = busyStore{s.Store}
	h := s.Handler()
	res := protocol.Result{RunID: "run-1", DeviceID: "dev_busy", AssignmentID: cfg, Status: protocol.StatusSucceeded}
	for _, tt := range []struct {
		path string
		body any
	}{
		{protocol.PathCheckin, checkinBody("dev_busy")},
		{protocol.PathResults, protocol.ResultsRequest{DeviceID: "dev_busy", Results: []protocol.Result{res}}},
		{protocol.PathInventory, validReport("dev_busy")},
	} {
		t.Run(tt.path, func(t *testing.T) {
			w := deviceRequest(h, cert, tt.path, tt.body)
			if w.Code != http.StatusServiceUnavailable {
				t.Fatalf("%s with a busy store: %d %s, want 503", tt.path, w.Code, w.Body)
			}
			checkRetryAfter(t, w)
			if bytes.Contains(w.Body.Bytes(), []byte("accepted")) {
				t.Errorf("503 carries an acknowledgement: %s", w.Body)
			}
		})
	}
}

// Many devices checking in and reporting at once against a small limit
// get only 200 or 503, and every result acknowledged is stored.
func TestOverloadIs503AndKeepsAcknowledgedResults(t *testing.T) {
	s := newTenant(t)
	if _, err := s.Distribute(t.Context(), "default", []string{"all"}, false); err != nil {
		t.Fatal(err)
	}
	s.MaxInFlight = 4
	h := s.Handler()
	const (
		devices = 16
		perDev  = 4 // concurrent agents per device id
		rounds  = 5
	)
	certs := make([]*x509.Certificate, devices)
	ids := make([]string, devices)
	for i := range devices {
		ids[i] = fmt.Sprintf("dev_%02d", i)
		certs[i] = fakeDevice(t, s, ids[i], int64(i+1))
	}
	cfg := sentTo(t, s, ids...)
	var (
		mu       sync.Mutex
		acked    = map[string]bool{}
		statuses = map[int]int{}
		wg       sync.WaitGroup
	)
	for i := range devices * perDev {
		wg.Go(func() {
			cert := certs[i%devices]
			id := cert.Subject.CommonName
			for round := range rounds {
				var results []protocol.Result
				for k := range 3 {
					results = append(results, protocol.Result{RunID: fmt.Sprintf("run-%d-%d-%d", i, round, k),
						DeviceID: id, AssignmentID: cfg, Status: protocol.StatusSucceeded, Stdout: "ok"})
				}
				for _, w := range []*httptest.ResponseRecorder{
					deviceRequest(h, cert, protocol.PathCheckin, checkinBody(id)),
					deviceRequest(h, cert, protocol.PathResults, protocol.ResultsRequest{DeviceID: id, Results: results}),
				} {
					mu.Lock()
					statuses[w.Code]++
					mu.Unlock()
					switch w.Code {
					case http.StatusOK:
						var ack protocol.ResultsAck
						if json.Unmarshal(w.Body.Bytes(), &ack) == nil {
							mu.Lock()
							for _, run := range ack.Accepted {
								acked[run] = true
							}
							mu.Unlock()
						}
					case http.StatusServiceUnavailable:
						checkRetryAfter(t, w)
					default:
						t.Errorf("status %d: %s", w.Code, w.Body)
					}
				}
			}
		})
	}
	wg.Wait()
	t.Logf("statuses %v, %d results acknowledged", statuses, len(acked))
	if statuses[http.StatusServiceUnavailable] == 0 {
		t.Errorf("no 503 among %v: the load did not reach the limit", statuses)
	}
	if len(acked) == 0 {
		t.Fatal("no result was acknowledged")
	}
	rs, err := s.Store.Results(t.Context(), store.ResultFilter{})
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]bool{}
	for _, r := range rs {
		stored[r.RunID] = true
	}
	for run := range acked {
		if !stored[run] {
			t.Errorf("result %s acknowledged but not stored", run)
		}
	}
}
