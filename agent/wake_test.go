package agent

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/zap"
)

// fakeWaker answers wake requests from a script of answers, one per call,
// and records when each call was made.
type fakeWaker struct {
	clock   clockwork.Clock
	answers chan wakeAnswer
	mu      sync.Mutex
	calls   []time.Time
}

type wakeAnswer struct {
	woke       bool
	retryAfter time.Duration
	err        error
}

func (f *fakeWaker) Wake(ctx context.Context) (bool, time.Duration, error) {
	f.mu.Lock()
	f.calls = append(f.calls, f.clock.Now())
	f.mu.Unlock()
	select {
	case a := <-f.answers:
		return a.woke, a.retryAfter, a.err
	case <-ctx.Done():
		return false, 0, ctx.Err()
	}
}

func (f *fakeWaker) called() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

// waitCalls waits (in real time) until the loop made n requests.
func (f *fakeWaker) waitCalls(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for f.called() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d wake requests, want %d", f.called(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

func startWakeLoop(t *testing.T) (*fakeWaker, *clockwork.FakeClock, chan struct{}, context.Context) {
	t.Helper()
	clock := clockwork.NewFakeClock()
	f := &fakeWaker{clock: clock, answers: make(chan wakeAnswer)}
	wake := make(chan struct{}, 1)
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Go(func() { wakeLoop(ctx, clock, f, wake, zap.NewNop()) })
	t.Cleanup(func() { cancel(); wg.Wait() })
	return f, clock, wake, ctx
}

// Several wakes before the daemon looks are one check-in, and an answer
// that comes at once does not make the loop ask again at once.
func TestWakeLoopCoalescesAndSpacesRequests(t *testing.T) {
	f, clock, wake, ctx := startWakeLoop(t)
	for i := range 3 {
		f.waitCalls(t, i+1)
		f.answers <- wakeAnswer{woke: true}
		// The answer came at once: the next request waits wakeMinGap.
		if err := clock.BlockUntilContext(ctx, 1); err != nil {
			t.Fatal(err)
		}
		if f.called() != i+1 {
			t.Fatal("the loop asked again at once after an immediate answer")
		}
		clock.Advance(wakeMinGap)
	}
	f.waitCalls(t, 4)
	if len(wake) != 1 {
		t.Fatalf("%d tokens after three wakes, want one", len(wake))
	}
	<-wake
	// A held answer (the server's 204 after its hold) renews at once.
	clock.Advance(time.Minute)
	f.answers <- wakeAnswer{}
	f.waitCalls(t, 5)
	if len(wake) != 0 {
		t.Fatal("a 204 left a token")
	}
}

// A failing channel backs off, doubling with jitter, and honours the
// server's Retry-After.
func TestWakeLoopBacksOffAndHonoursRetryAfter(t *testing.T) {
	f, clock, _, ctx := startWakeLoop(t)
	down := errors.New("connection refused")
	f.waitCalls(t, 1)
	for i, ceil := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
		f.answers <- wakeAnswer{err: down}
		if err := clock.BlockUntilContext(ctx, 1); err != nil {
			t.Fatal(err)
		}
		clock.Advance(ceil/2 - time.Millisecond)
		time.Sleep(5 * time.Millisecond)
		if f.called() != i+1 {
			t.Fatalf("failure %d: asked again before half the backoff of %s", i+1, ceil)
		}
		clock.Advance(ceil/2 + time.Millisecond)
		f.waitCalls(t, i+2)
	}
	f.answers <- wakeAnswer{err: &HTTPError{Status: http.StatusServiceUnavailable}, retryAfter: 40 * time.Second}
	if err := clock.BlockUntilContext(ctx, 1); err != nil {
		t.Fatal(err)
	}
	clock.Advance(40*time.Second - time.Millisecond)
	time.Sleep(5 * time.Millisecond)
	if f.called() != 4 {
		t.Fatal("asked again before the server's Retry-After")
	}
	clock.Advance(4 * time.Second)
	f.waitCalls(t, 5)
}

func TestWakeBackoffBounds(t *testing.T) {
	tests := []struct {
		failures   int
		retryAfter time.Duration
		lo, hi     time.Duration
	}{
		{1, 0, 500 * time.Millisecond, time.Second},
		{4, 0, 4 * time.Second, 8 * time.Second},
		{30, 0, wakeBackoffMax / 2, wakeBackoffMax},
		{1, 30 * time.Second, 30 * time.Second, 33 * time.Second},
		{9, wakeRetryAfterMax, wakeRetryAfterMax, wakeRetryAfterMax * 11 / 10},
	}
	for _, tt := range tests {
		seen := map[time.Duration]bool{}
		for range 200 {
			d := wakeBackoff(tt.failures, tt.retryAfter)
			if d < tt.lo || d > tt.hi {
				t.Fatalf("wakeBackoff(%d, %s) = %s, want within [%s, %s]", tt.failures, tt.retryAfter, d, tt.lo, tt.hi)
			}
			seen[d] = true
		}
		if len(seen) < 10 {
			t.Fatalf("wakeBackoff(%d, %s) gave %d distinct pauses: a fleet would come back together", tt.failures, tt.retryAfter, len(seen))
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"": 0, "x": 0, "-5": 0, "0": 0, "45": 45 * time.Second, "86400": wakeRetryAfterMax,
		"Wed, 21 Oct 2037 07:28:00 GMT": 0,
	} {
		if got := parseRetryAfter(in); got != want {
			t.Errorf("parseRetryAfter(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestWokenCheckinIsRateLimited(t *testing.T) {
	now := time.Date(2027, 1, 4, 9, 0, 0, 0, time.UTC)
	due := now.Add(15 * time.Minute)
	tests := []struct {
		name      string
		last, due time.Time
		want      time.Time
	}{
		{"long after the last check-in: now", now.Add(-time.Minute), due, now},
		{"right after one: when the gap has passed", now.Add(-2 * time.Second), due, now.Add(3 * time.Second)},
		{"never checked in: now", time.Time{}, due, now},
		{"due sooner anyway: stays", now.Add(-time.Second), now.Add(time.Second), now.Add(time.Second)},
	}
	for _, tt := range tests {
		if got := wokenCheckin(now, tt.last, tt.due); !got.Equal(tt.want) {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
}

// The wake request goes over the agent's mutual TLS: the server wakes this
// device, and a peer the pinned tenant CA did not certify is refused in
// the handshake, whatever it answers.
func TestClientWake(t *testing.T) {
	e := newTestEnv(t)
	e.srv.Wake.Poll = 10 * time.Millisecond
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Go(func() { e.srv.WatchWakes(ctx) })
	defer func() { cancel(); wg.Wait() }()
	a := e.agent(t, Options{})
	defer a.Close()
	now := time.Now()
	if err := e.srv.Store.RequestWakes(t.Context(), []string{a.DeviceID()}, now, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	woke, _, err := a.api.Wake(t.Context())
	if err != nil || !woke {
		t.Fatalf("Wake = %v, %v; want woken", woke, err)
	}

	impostor := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"checkin":true}`))
	}))
	defer impostor.Close()
	id := *a.id
	id.ServerURL = impostor.URL
	c, err := NewClient(&id, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	if woke, _, err := c.Wake(t.Context()); err == nil || woke {
		t.Fatalf("Wake from an impostor = %v, %v; want a TLS refusal", woke, err)
	}
}

// Forged or garbage "check in now" answers, as fast as they come, make the
// daemon check in at most once per wakeCheckinGap, and run nothing: what
// runs comes from the signed check-in, which carries no script here.
func TestDaemonWakeAtMostChecksIn(t *testing.T) {
	e := newTestEnv(t)
	e.mu.Lock()
	e.wake = func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"assignments":[{"id":"cfg_x","blob_url":"/evil"}],"run":"rm -rf /"}`))
	}
	e.mu.Unlock()
	a := e.agent(t, Options{Interval: 15 * time.Minute})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- a.Daemon(ctx) }()
	checkins := func() int {
		e.mu.Lock()
		defer e.mu.Unlock()
		return len(e.checkins)
	}
	deadline := time.Now().Add(20 * time.Second)
	for checkins() < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(time.Second) // more wakes arrive meanwhile
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	n, elapsed := checkins(), time.Since(start)
	if n < 2 {
		t.Fatalf("%d check-ins in %s of wakes, want the wakes to bring some about", n, elapsed)
	}
	if most := 2 + int(elapsed/wakeCheckinGap); n > most {
		t.Fatalf("%d check-ins in %s, want at most %d: one per %s", n, elapsed, most, wakeCheckinGap)
	}
	if q := a.outbox.Len(); q != 0 {
		t.Fatalf("%d results queued: a wake made the agent run something", q)
	}
	if p, err := a.lastPayload(); err != nil || len(p.Assignments) != 0 {
		t.Fatalf("payload %+v, %v; want the signed one, with no assignment", p, err)
	}
}
