package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/jonboulle/clockwork"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// wakeWorld is a tenant with a fake clock driving its wake channel and
// the watcher running.
type wakeWorld struct {
	s     *Server
	h     http.Handler
	clock *clockwork.FakeClock
	ctx   context.Context
}

const testHold = time.Minute

func newWakeWorld(t *testing.T, o WakeOptions) *wakeWorld {
	t.Helper()
	s := newTenant(t)
	clock := clockwork.NewFakeClock()
	o.Clock, o.Hold, o.Poll = clock, testHold, 100*time.Millisecond
	s.Wake = o
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Go(func() { s.WatchWakes(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait() })
	return &wakeWorld{s: s, h: s.Handler(), clock: clock, ctx: ctx}
}

// wake sends a wake request of cert and returns where its answer arrives.
func (w *wakeWorld) wake(t *testing.T, cert *x509.Certificate) <-chan *httptest.ResponseRecorder {
	t.Helper()
	out := make(chan *httptest.ResponseRecorder, 1)
	r := httptest.NewRequestWithContext(w.ctx, http.MethodGet, protocol.PathWake, nil)
	if cert != nil {
		r.TLS = &tls.ConnectionState{VerifiedChains: [][]*x509.Certificate{{cert}}}
	}
	go func() {
		rec := httptest.NewRecorder()
		w.h.ServeHTTP(rec, r)
		out <- rec
	}()
	return out
}

// waiters is how many requests the hub holds.
func (w *wakeWorld) waiters() int {
	h := w.s.wakeHub()
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.waiters)
}

// settle waits until the hub holds n requests and the watcher sleeps, so
// that what the test does next happens between two reads.
func (w *wakeWorld) settle(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for w.waiters() != n {
		if time.Now().After(deadline) {
			t.Fatalf("the hub holds %d wake requests, want %d", w.waiters(), n)
		}
		time.Sleep(time.Millisecond)
	}
	// The watcher's sleep and each held request's timer.
	if err := w.clock.BlockUntilContext(w.ctx, 1+n); err != nil {
		t.Fatal(err)
	}
}

func answered(t *testing.T, c <-chan *httptest.ResponseRecorder) *httptest.ResponseRecorder {
	t.Helper()
	select {
	case rec := <-c:
		return rec
	case <-time.After(10 * time.Second):
		t.Fatal("the wake request was not answered")
		return nil
	}
}

func notAnswered(t *testing.T, c <-chan *httptest.ResponseRecorder) {
	t.Helper()
	select {
	case rec := <-c:
		t.Fatalf("the wake request was answered %d, want it held", rec.Code)
	case <-time.After(50 * time.Millisecond):
	}
}

func (w *wakeWorld) requestWake(t *testing.T, ids ...string) {
	t.Helper()
	now := w.s.now()
	if err := w.s.Store.RequestWakes(t.Context(), ids, now, now.Add(WakeTTL)); err != nil {
		t.Fatal(err)
	}
}

func (w *wakeWorld) pending(t *testing.T) int {
	t.Helper()
	ws, err := w.s.Store.PendingWakes(t.Context(), w.s.now())
	if err != nil {
		t.Fatal(err)
	}
	return len(ws)
}

func TestWakeAnswersHeldRequestAndDeletesTheWake(t *testing.T) {
	w := newWakeWorld(t, WakeOptions{})
	cert := fakeDevice(t, w.s, "dev_1", 1)
	other := fakeDevice(t, w.s, "dev_2", 2)
	got, held := w.wake(t, cert), w.wake(t, other)
	w.settle(t, 2)
	w.requestWake(t, "dev_1")
	w.clock.Advance(100 * time.Millisecond)
	rec := answered(t, got)
	if rec.Code != http.StatusOK || rec.Body.String() != `{"checkin":true}` {
		t.Fatalf("woken device answered %d %q, want 200 {\"checkin\":true}", rec.Code, rec.Body)
	}
	notAnswered(t, held) // the other device's request is still held
	if n := w.pending(t); n != 0 {
		t.Fatalf("%d wakes pending after delivery, want the delivered one deleted", n)
	}

	// The renewed request is not woken again by the wake just delivered.
	again := w.wake(t, cert)
	w.settle(t, 2)
	w.clock.Advance(100 * time.Millisecond)
	notAnswered(t, again)
	// At the hold's end (up to a fifth longer) both are answered "nothing".
	w.clock.Advance(testHold + testHold/5)
	for _, c := range []<-chan *httptest.ResponseRecorder{again, held} {
		if rec := answered(t, c); rec.Code != http.StatusNoContent {
			t.Fatalf("held request answered %d at the hold's end, want 204", rec.Code)
		}
	}
}

// A wake requested while the device held no request (between two, or
// before it came online) wakes its next request at once.
func TestWakePendingBeforeTheRequestArrives(t *testing.T) {
	w := newWakeWorld(t, WakeOptions{})
	cert := fakeDevice(t, w.s, "dev_1", 1)
	w.settle(t, 0)
	w.requestWake(t, "dev_1")
	w.clock.Advance(100 * time.Millisecond)
	w.settle(t, 0) // read once more: the watcher knows of the wake
	if rec := answered(t, w.wake(t, cert)); rec.Code != http.StatusOK {
		t.Fatalf("request with a wake pending answered %d, want 200", rec.Code)
	}
	if n := w.pending(t); n != 0 {
		t.Fatalf("%d wakes pending after delivery", n)
	}
}

// A device holds one request: its newer one answers the older "nothing".
func TestWakeNewerRequestSupersedesOlder(t *testing.T) {
	w := newWakeWorld(t, WakeOptions{})
	cert := fakeDevice(t, w.s, "dev_1", 1)
	first := w.wake(t, cert)
	w.settle(t, 1)
	second := w.wake(t, cert)
	if rec := answered(t, first); rec.Code != http.StatusNoContent {
		t.Fatalf("superseded request answered %d, want 204", rec.Code)
	}
	w.settle(t, 1)
	w.requestWake(t, "dev_1")
	w.clock.Advance(100 * time.Millisecond)
	if rec := answered(t, second); rec.Code != http.StatusOK {
		t.Fatalf("newer request answered %d, want 200", rec.Code)
	}
}

// Wake requests over the cap are refused at once with a long Retry-After;
// held ones take none of the device requests' slots.
func TestWakeCapAndInFlightLimitAreApart(t *testing.T) {
	w := newWakeWorld(t, WakeOptions{MaxWaiters: 2})
	w.s.MaxInFlight = 1
	w.h = w.s.Handler()
	var certs []*x509.Certificate
	for i, id := range []string{"dev_1", "dev_2", "dev_3"} {
		certs = append(certs, fakeDevice(t, w.s, id, int64(i+1)))
	}
	a, b := w.wake(t, certs[0]), w.wake(t, certs[1])
	w.settle(t, 2)
	rec := answered(t, w.wake(t, certs[2]))
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("wake request over the cap answered %d, want 503", rec.Code)
	}
	if n, err := strconv.Atoi(rec.Header().Get("Retry-After")); err != nil || n < wakeRetryMin || n > wakeRetryMax {
		t.Fatalf("Retry-After %q, want %d to %d seconds", rec.Header().Get("Retry-After"), wakeRetryMin, wakeRetryMax)
	}
	// Two held wake requests and MaxInFlight 1: a check-in is served.
	if rec := deviceRequest(w.h, certs[2], protocol.PathCheckin, checkinBody("dev_3")); rec.Code != http.StatusOK {
		t.Fatalf("check-in beside held wake requests answered %d %s, want 200", rec.Code, rec.Body)
	}
	w.clock.Advance(testHold + testHold/5)
	answered(t, a)
	answered(t, b)
	w.settle(t, 0)
	c := w.wake(t, certs[2])
	w.settle(t, 1) // a freed slot holds again
	w.clock.Advance(testHold + testHold/5)
	answered(t, c)
}

// A stopping server answers held requests at once, and new ones, 503.
func TestWakeStopAnswersHeldRequests(t *testing.T) {
	w := newWakeWorld(t, WakeOptions{})
	cert := fakeDevice(t, w.s, "dev_1", 1)
	held := w.wake(t, cert)
	w.settle(t, 1)
	w.s.wakeHub().stop()
	for _, c := range []<-chan *httptest.ResponseRecorder{held, w.wake(t, cert)} {
		if rec := answered(t, c); rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
			t.Fatalf("wake request of a stopping server answered %d (Retry-After %q), want 503 with Retry-After", rec.Code, rec.Header().Get("Retry-After"))
		}
	}
}

func TestWakeNeedsADeviceCertificate(t *testing.T) {
	w := newWakeWorld(t, WakeOptions{})
	if rec := answered(t, w.wake(t, nil)); rec.Code != http.StatusUnauthorized {
		t.Fatalf("wake request without a certificate answered %d, want 401", rec.Code)
	}
	if w.waiters() != 0 {
		t.Fatal("an unauthenticated request was held")
	}
}

func TestRunNowRefusesBadInputAndChangesNothing(t *testing.T) {
	s := newTenant(t)
	fleet(t, s)
	sc, err := s.AddScript(t.Context(), "hello", "", []byte("echo hi\n"), []store.InputDecl{{Label: "Who", Name: "who"}})
	if err != nil {
		t.Fatal(err)
	}
	ok := RunNowRequest{Script: sc.ID, Devices: []string{"d1"}}
	tests := []struct {
		name string
		edit func(*RunNowRequest)
	}{
		{"no target", func(r *RunNowRequest) { r.Devices = nil }},
		{"unknown device", func(r *RunNowRequest) { r.Devices = []string{"dev_nope"} }},
		{"two devices in one flag", func(r *RunNowRequest) { r.Devices = []string{"d1,d2"} }},
		{"empty device", func(r *RunNowRequest) { r.Devices = []string{" "} }},
		{"no script", func(r *RunNowRequest) { r.Script = "" }},
		{"unknown script", func(r *RunNowRequest) { r.Script = "nope" }},
		{"bad target", func(r *RunNowRequest) { r.Devices, r.To = nil, []string{"planet:mars"} }},
		{"reaches only a device that left", func(r *RunNowRequest) { r.Devices = []string{"d4"} }},
		{"negative expiry", func(r *RunNowRequest) { r.Expires = -time.Minute }},
		{"undeclared input", func(r *RunNowRequest) { r.Inputs = []string{"what=x"} }},
		{"bad run-as", func(r *RunNowRequest) { r.RunAs = "nobody" }},
	}
	before, _ := s.Store.Configurations(t.Context())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := ok
			tt.edit(&req)
			if _, err := s.RunNow(t.Context(), req); !errors.Is(err, ErrInvalid) {
				t.Fatalf("RunNow = %v, want ErrInvalid", err)
			}
			if after, _ := s.Store.Configurations(t.Context()); len(after) != len(before) {
				t.Fatalf("a refused run left a configuration: %d, had %d", len(after), len(before))
			}
			if ws, _ := s.Store.PendingWakes(t.Context(), s.now()); len(ws) != 0 {
				t.Fatalf("a refused run left wakes: %+v", ws)
			}
		})
	}
}

func TestRunNowMakesAnExpiringRunOnceAndWakes(t *testing.T) {
	s := newTenant(t)
	fleet(t, s)
	now := time.Date(2027, 1, 4, 9, 0, 0, 0, time.UTC)
	s.Now = func() time.Time { return now }
	sc, err := s.AddScript(t.Context(), "hello", "", []byte("echo hi\n"), []store.InputDecl{{Label: "Who", Name: "who"}})
	if err != nil {
		t.Fatal(err)
	}
	req := RunNowRequest{Script: "hello", Devices: []string{"d1"}, To: []string{"group:design"}, Inputs: []string{"who=ada"}, Expires: time.Hour}
	rn, err := s.RunNow(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	c := rn.Config
	if c.Name != "Run now: hello (2027-01-04 09:00:00Z)" || c.Script.ScriptID != sc.ID || c.Script.Schedule.Recurring() ||
		c.Script.Inputs["who"] != "ada" || !c.ExpiresAt.Equal(now.Add(time.Hour)) {
		t.Fatalf("run-now configuration %+v", c)
	}
	var ids []string
	for _, d := range rn.Devices {
		ids = append(ids, d.ID)
	}
	if len(ids) != 2 || ids[0] != "d1" || ids[1] != "d2" {
		t.Fatalf("reaches %v, want d1 (by id) and d2 (in design)", ids)
	}
	ws, err := s.Store.PendingWakes(t.Context(), now)
	if err != nil || len(ws) != 2 || !ws[0].ExpiresAt.Equal(now.Add(WakeTTL)) {
		t.Fatalf("wakes %+v, %v; want d1 and d2 woken for %s", ws, err, WakeTTL)
	}
	// A second run in the same second gets a name of its own, and a short
	// expiry bounds its wakes.
	req.Expires = time.Minute
	rn2, err := s.RunNow(t.Context(), req)
	if err != nil || rn2.Config.Name != c.Name+" #2" {
		t.Fatalf("second run: %v, %q", err, rn2.Config.Name)
	}
	if ws, _ := s.Store.PendingWakes(t.Context(), now); !ws[0].ExpiresAt.Equal(now.Add(time.Minute)) {
		t.Fatalf("wake of a run expiring in a minute pending until %s", ws[0].ExpiresAt)
	}
	if got := live([]store.Configuration{c, rn2.Config}, now.Add(30*time.Minute)); len(got) != 1 || got[0].ID != c.ID {
		t.Fatalf("live after 30 minutes: %v, want only the hour-long run", got)
	}
	if got := live([]store.Configuration{c}, now.Add(time.Hour)); len(got) != 0 {
		t.Fatal("a configuration is live at its expiry")
	}
}

func TestRunNowNameFitsWithSuffix(t *testing.T) {
	for _, script := range []string{"a", strings.Repeat("a", 128), strings.Repeat("é", 100)} {
		name := runNowName(script, time.Now())
		if err := checkName("configuration", name+" #99"); err != nil || !utf8.ValidString(name) {
			t.Fatalf("name %q: %v", name, err)
		}
	}
}
