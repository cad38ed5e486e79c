package server

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/zap"

	"github.com/mobileatwork/mobileatwork/internal/routines"
	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// Wake channel defaults.
const (
	// DefaultMaxWakeWaiters is how many wake requests a serving process
	// holds at once by default: an idle held request costs a goroutine, a
	// connection and a few hundred bytes, so this covers a large fleet.
	DefaultMaxWakeWaiters = 20000
	// DefaultWakeHold is how long a wake request is held before it is
	// answered 204; each request is held up to a fifth longer, at random,
	// so a fleet that connected together does not renew together. It
	// stays under the listener's 60 s read and write timeouts.
	DefaultWakeHold = 45 * time.Second
	// DefaultWakePoll is how often a serving process reads the pending
	// wakes from the store: the delay a wake adds at most.
	DefaultWakePoll = 250 * time.Millisecond
	// WakeTTL is how long a wake stays pending for a device that holds no
	// wake request: past it the device checks in on its own schedule.
	WakeTTL = 2 * time.Minute
	// wakePurgeEvery is how often expired wakes are deleted.
	wakePurgeEvery = time.Minute
)

// Retry-After bounds of a wake request over the cap, in seconds: longer
// than a device request's, for the agent checks in on its schedule
// meanwhile and a held request's slot frees only when it is answered.
const (
	wakeRetryMin = 30
	wakeRetryMax = 90
)

// WakeOptions tune the wake channel; zero fields take the defaults.
type WakeOptions struct {
	// MaxWaiters bounds the wake requests held at once; those over it are
	// answered 503 with Retry-After. They are not device requests of
	// MaxInFlight: idle agents must not use up the slots of work.
	MaxWaiters int
	Hold       time.Duration
	Poll       time.Duration
	Clock      clockwork.Clock
}

func (o WakeOptions) clock() clockwork.Clock {
	if o.Clock == nil {
		return clockwork.NewRealClock()
	}
	return o.Clock
}

func (o WakeOptions) hold() time.Duration {
	h := o.Hold
	if h <= 0 {
		h = DefaultWakeHold
	}
	return h + rand.N(h/5+1)
}

// wakeSignal ends a held wake request with its answer.
type wakeSignal struct {
	code        int       // 200 check in now, 204 superseded, 503 stopping
	requestedAt time.Time // of the wake delivered by a 200
}

// wakeHub is the registry of held wake requests of one serving process:
// one waiter per device, woken by the store's pending wakes.
type wakeHub struct {
	held atomic.Int64 // wake requests in the route, for the cap

	mu      sync.Mutex
	waiters map[string]chan wakeSignal
	// pending are the wakes of the last read, by device; delivered are
	// those this process answered whose rows may not be deleted yet, so
	// that a renewed request is not woken twice by one wake.
	pending   map[string]time.Time
	delivered map[string]time.Time
	stopped   bool
}

func (s *Server) wakeHub() *wakeHub {
	s.wakeOnce.Do(func() {
		s.wakes = &wakeHub{waiters: map[string]chan wakeSignal{}, pending: map[string]time.Time{}, delivered: map[string]time.Time{}}
	})
	return s.wakes
}

// register holds a request of the device: it replaces (answers 204) the
// device's earlier one, and is woken at once by a wake already pending.
func (h *wakeHub) register(id string) chan wakeSignal {
	c := make(chan wakeSignal, 1)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stopped {
		c <- wakeSignal{code: http.StatusServiceUnavailable}
		return c
	}
	if old, ok := h.waiters[id]; ok {
		signal(old, wakeSignal{code: http.StatusNoContent})
	}
	if at, ok := h.pending[id]; ok {
		h.deliver(id, c, at)
		return c
	}
	h.waiters[id] = c
	return c
}

// deliver wakes c for the wake of id requested at at; h.mu is held.
func (h *wakeHub) deliver(id string, c chan wakeSignal, at time.Time) {
	delete(h.pending, id)
	delete(h.waiters, id)
	h.delivered[id] = at
	signal(c, wakeSignal{code: http.StatusOK, requestedAt: at})
}

// signal hands sig to a waiter that holds none yet: each is answered once.
func signal(c chan wakeSignal, sig wakeSignal) {
	select {
	case c <- sig:
	default:
	}
}

// release forgets c once its request is answered or gone. A wake c was
// given but could not pass on is offered again at the next read.
func (h *wakeHub) release(id string, c chan wakeSignal) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.waiters[id] == c {
		delete(h.waiters, id)
	}
	select {
	case sig := <-c:
		if sig.code == http.StatusOK && h.delivered[id].Equal(sig.requestedAt) {
			delete(h.delivered, id)
		}
	default:
	}
}

// undeliver offers a wake again whose answer did not go out.
func (h *wakeHub) undeliver(id string, at time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.delivered[id].Equal(at) {
		delete(h.delivered, id)
	}
}

// update takes the pending wakes just read and wakes the devices whose
// request this process holds.
func (h *wakeHub) update(ws []store.Wake) {
	h.mu.Lock()
	defer h.mu.Unlock()
	seen := make(map[string]bool, len(ws))
	clear(h.pending)
	for _, w := range ws {
		seen[w.DeviceID] = true
		if d, ok := h.delivered[w.DeviceID]; ok && !w.RequestedAt.After(d) {
			continue // answered; its row is being deleted
		}
		if c, ok := h.waiters[w.DeviceID]; ok {
			h.deliver(w.DeviceID, c, w.RequestedAt)
			continue
		}
		h.pending[w.DeviceID] = w.RequestedAt
	}
	for id := range h.delivered {
		if !seen[id] {
			delete(h.delivered, id) // deleted, or expired
		}
	}
}

// stop answers every held request 503 and refuses new ones until start:
// a serving process that shuts down does not wait out the holds, and its
// agents come back with backoff.
func (h *wakeHub) stop() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.stopped = true
	for id, c := range h.waiters {
		signal(c, wakeSignal{code: http.StatusServiceUnavailable})
		delete(h.waiters, id)
	}
}

func (h *wakeHub) start() {
	h.mu.Lock()
	h.stopped = false
	h.mu.Unlock()
}

// limitWake answers 503 at once, before authentication, to wake requests
// over Wake.MaxWaiters.
func (s *Server) limitWake(next http.Handler) http.Handler {
	max := int64(s.Wake.MaxWaiters)
	if max <= 0 {
		max = DefaultMaxWakeWaiters
	}
	h := s.wakeHub()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h.held.Add(1) > max {
			h.held.Add(-1)
			w.Header().Set("Retry-After", strconv.Itoa(wakeRetryMin+rand.IntN(wakeRetryMax-wakeRetryMin+1)))
			s.fail(w, r, http.StatusServiceUnavailable, "server busy: too many wake requests held, retry later")
			return
		}
		defer h.held.Add(-1)
		next.ServeHTTP(w, r)
	})
}

// handleWake holds the device's wake request until a wake for it, the
// hold's end (204) or the client leaving.
func (s *Server) handleWake(w http.ResponseWriter, r *http.Request, d store.Device, _ *x509.Certificate) {
	h := s.wakeHub()
	c := h.register(d.ID)
	defer h.release(d.ID, c)
	hold := s.Wake.hold()
	// The hold may outlast the listener's timeouts, which count from the
	// request's start; a listener without them ignores this.
	rc := http.NewResponseController(w)
	deadline := time.Now().Add(hold + 15*time.Second)
	_ = rc.SetReadDeadline(deadline)
	_ = rc.SetWriteDeadline(deadline)
	t := s.Wake.clock().NewTimer(hold)
	defer t.Stop()
	select {
	case sig := <-c:
		switch sig.code {
		case http.StatusOK:
			s.answerWake(w, r, rc, d.ID, sig.requestedAt)
		case http.StatusServiceUnavailable:
			s.tooBusy(w, r, "server stopping: reconnect later")
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	case <-t.Chan():
		w.WriteHeader(http.StatusNoContent)
	case <-r.Context().Done():
	}
}

// answerWake tells the device to check in and deletes the wake once the
// answer went out; one that did not stays pending for its next request.
func (s *Server) answerWake(w http.ResponseWriter, r *http.Request, rc *http.ResponseController, id string, at time.Time) {
	noteAnswer(r, "wake")
	b, _ := json.Marshal(protocol.WakeAnswer{Checkin: true})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(b)
	if err == nil {
		err = rc.Flush()
	}
	if err != nil {
		s.wakeHub().undeliver(id, at)
		return
	}
	// The request's context ends with the answer; the delete must not.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 10*time.Second)
	defer cancel()
	if err := s.Store.DeleteWake(ctx, id, at); err != nil {
		s.Log.Warn("delete delivered wake", zap.String("device", id), zap.Error(err))
	}
}

// WatchWakes reads the pending wakes every Wake.Poll and wakes the devices
// whose request this process holds, until ctx is done. Serve runs it;
// whoever serves Handler otherwise runs it beside.
func (s *Server) WatchWakes(ctx context.Context) {
	h, clock := s.wakeHub(), s.Wake.clock()
	poll := s.Wake.Poll
	if poll <= 0 {
		poll = DefaultWakePoll
	}
	lastPurge, failing := clock.Now(), false
	for {
		ws, err := s.Store.PendingWakes(ctx, s.now())
		switch {
		case ctx.Err() != nil:
			return
		case err != nil && !failing:
			s.Log.Warn("read pending wakes: devices are not woken until the store answers", zap.Error(err))
		case err == nil && failing:
			s.Log.Info("reading pending wakes again")
		}
		if failing = err != nil; !failing {
			h.update(ws)
		}
		if clock.Since(lastPurge) >= wakePurgeEvery {
			lastPurge = clock.Now()
			if _, err := s.Store.PurgeWakes(ctx, s.now()); err != nil && ctx.Err() == nil {
				s.Log.Warn("purge expired wakes", zap.Error(err))
			}
		}
		if !routines.Sleep(ctx, clock, poll) {
			return
		}
	}
}

// startWakes runs WatchWakes in g and opens the hub to requests.
func (s *Server) startWakes(g *routines.Group) {
	s.wakeHub().start()
	g.Go(s.WatchWakes)
}
