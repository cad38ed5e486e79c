package localweb

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// Event is one server-sent event.
type Event struct {
	Name string // the "event:" field; "" is the default "message"
	Data any    // encoded as JSON on one line
}

// Events fans out live updates to every connected page as server-sent
// events. A page that falls behind loses events, never blocks the agent:
// each event should therefore carry a full state, not a delta.
type Events struct {
	// Snapshot, when set, gives the events sent first to a new
	// subscriber, so a page never misses what happened before it
	// connected.
	Snapshot func() []Event
	// Heartbeat keeps idle connections open through proxies; 0 is 15 s.
	Heartbeat time.Duration

	mu   sync.Mutex
	subs map[chan Event]struct{}
}

// Publish sends e to every subscriber that has room for it.
func (b *Events) Publish(e Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for ch := range b.subs {
		select {
		case ch <- e:
		default: // slow page: it gets the next full state
		}
	}
}

// Watched reports whether a page is connected: with none, a producer can
// skip the work of computing states nobody receives.
func (b *Events) Watched() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs) > 0
}

func (b *Events) subscribe() chan Event {
	ch := make(chan Event, 16)
	b.mu.Lock()
	if b.subs == nil {
		b.subs = map[chan Event]struct{}{}
	}
	b.subs[ch] = struct{}{}
	b.mu.Unlock()
	return ch
}

func (b *Events) unsubscribe(ch chan Event) {
	b.mu.Lock()
	delete(b.subs, ch)
	b.mu.Unlock()
}

// ServeHTTP streams events until the client goes or the request ends.
func (b *Events) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	ch := b.subscribe()
	defer b.unsubscribe(ch)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	if b.Snapshot != nil {
		for _, e := range b.Snapshot() {
			if writeEvent(w, e) != nil {
				return
			}
		}
	}
	fmt.Fprint(w, ": connected\n\n")
	fl.Flush()
	hb := b.Heartbeat
	if hb <= 0 {
		hb = 15 * time.Second
	}
	tick := time.NewTicker(hb)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case e := <-ch:
			if writeEvent(w, e) != nil {
				return
			}
		case <-tick.C:
			if _, err := fmt.Fprint(w, ": ping\n\n"); err != nil {
				return
			}
		}
		fl.Flush()
	}
}

func writeEvent(w http.ResponseWriter, e Event) error {
	data, err := json.Marshal(e.Data)
	if err != nil {
		return fmt.Errorf("encode event: %w", err)
	}
	if e.Name != "" {
		if _, err := fmt.Fprintf(w, "event: %s\n", e.Name); err != nil {
			return err
		}
	}
	// json.Marshal never emits a raw newline, so one data line suffices.
	_, err = fmt.Fprintf(w, "data: %s\n\n", data)
	return err
}

// WriteJSON answers v as JSON with status code.
func WriteJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}
