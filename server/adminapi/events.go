package adminapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/mobileatwork/mobileatwork/server"
	"github.com/mobileatwork/mobileatwork/server/accounts"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// The event stream looks at the store every eventsEvery and says it is
// alive every heartbeatEvery, so that proxies and the browser keep it open.
var (
	eventsEvery    = 2 * time.Second
	heartbeatEvery = 15 * time.Second
)

// openStreams counts the event streams being served.
var openStreams atomic.Int64

// CheckinEvent says a device checked in.
type CheckinEvent struct {
	DeviceID string    `json:"device_id"`
	Name     string    `json:"name,omitempty"`
	At       time.Time `json:"at"`
}

// ResultEvent says a run's result arrived.
type ResultEvent struct {
	RunID    string `json:"run_id"`
	DeviceID string `json:"device_id"`
	ConfigID string `json:"config_id"`
	Status   string `json:"status"`
}

// events serves GET /api/v1/events, a server-sent event stream of
// check-ins and results for a console page that waits on them. It sits
// outside the endpoint table: its answer is a stream, not a document.
func (h *handler) events(w http.ResponseWriter, r *http.Request) {
	actor, err := h.authenticate(r, false)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if !actor.Role.Can(accounts.ClassRead) {
		h.fail(w, r, fmt.Errorf("%w: the %s role may not read events", ErrForbidden, actor.Role))
		return
	}
	ctx := r.Context()
	wt := newWatch()
	if err := wt.look(ctx, h.s, nil); err != nil {
		h.fail(w, r, err)
		return
	}
	openStreams.Add(1)
	defer openStreams.Add(-1)
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	send := func(chunk string) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if _, err := fmt.Fprint(w, chunk); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !send("retry: 5000\nevent: ready\ndata: {}\n\n") {
		return
	}
	tick := time.NewTicker(eventsEvery)
	defer tick.Stop()
	beat := time.NewTicker(heartbeatEvery)
	defer beat.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-beat.C:
			// A stream lasts no longer than its session or token: one that
			// ended, was revoked or lost its role ends the stream.
			if a, err := h.authenticate(r, false); err != nil || !a.Role.Can(accounts.ClassRead) {
				return
			}
			if !send(": heartbeat\n\n") {
				return
			}
		case <-tick.C:
			var out []string
			err := wt.look(ctx, h.s, func(event string, v any) {
				b, _ := json.Marshal(v)
				out = append(out, "event: "+event+"\ndata: "+string(b)+"\n\n")
			})
			if err != nil {
				if ctx.Err() == nil {
					h.log.Sugar().Warnf("event stream: %v", err)
				}
				continue // the next look may succeed
			}
			for _, chunk := range out {
				if !send(chunk) {
					return
				}
			}
		}
	}
}

// watch remembers what a stream has seen, to tell what is new.
type watch struct {
	checkins map[string]time.Time // device id: last check-in
	since    time.Time            // results received at or after are looked at
	atSince  map[string]bool      // run ids already sent that were received at since
	primed   bool
}

func newWatch() *watch {
	return &watch{checkins: map[string]time.Time{}, atSince: map[string]bool{}}
}

// look reads the devices and the recent results and hands emit what
// changed since the last look; the first look only remembers.
func (wt *watch) look(ctx context.Context, s *server.Server, emit func(event string, v any)) error {
	devs, err := s.Store.Devices(ctx)
	if err != nil {
		return err
	}
	for _, d := range devs {
		prev, known := wt.checkins[d.ID]
		if d.LastCheckin.After(prev) {
			wt.checkins[d.ID] = d.LastCheckin
			if wt.primed && emit != nil {
				emit("checkin", CheckinEvent{DeviceID: d.ID, Name: d.Facts.Hostname, At: d.LastCheckin.UTC()})
			}
		} else if !known {
			wt.checkins[d.ID] = d.LastCheckin
		}
	}
	if !wt.primed {
		wt.since, wt.primed = time.Now(), true
		return nil
	}
	return s.Store.EachResult(ctx, store.ResultFilter{Since: wt.since, Limit: 500}, func(r store.StoredResult) error {
		if r.ReceivedAt.Equal(wt.since) && wt.atSince[r.RunID] {
			return nil
		}
		if r.ReceivedAt.After(wt.since) {
			wt.since, wt.atSince = r.ReceivedAt, map[string]bool{}
		}
		wt.atSince[r.RunID] = true
		if emit != nil {
			emit("result", ResultEvent{RunID: r.RunID, DeviceID: r.DeviceID, ConfigID: r.AssignmentID, Status: r.Status})
		}
		return nil
	})
}
