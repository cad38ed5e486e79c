package adminapi

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/accounts"
	"github.com/mobileatwork/mobileatwork/server/store"
)

type sse struct {
	event, data string
}

// openEvents opens the event stream as role and returns its events as
// they come; cancel ends the request.
func openEvents(t *testing.T, a *api, role accounts.Role) (<-chan sse, *http.Response, context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, a.srv.URL+Prefix+"/events", nil)
	if role != "" {
		req.Header.Set("Authorization", "Bearer "+a.tokens[role])
	}
	res, err := a.srv.Client().Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	ch := make(chan sse, 16)
	go func() {
		defer close(ch)
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		var ev sse
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.event != "" {
					ch <- ev
				}
				ev = sse{}
			case strings.HasPrefix(line, "event: "):
				ev.event = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				ev.data = strings.TrimPrefix(line, "data: ")
			}
		}
	}()
	return ch, res, cancel
}

func next(t *testing.T, ch <-chan sse, want string) sse {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatalf("stream closed waiting for %s", want)
			}
			if ev.event == want {
				return ev
			}
		case <-timeout:
			t.Fatalf("no %s event", want)
		}
	}
}

func TestConsoleEventsTellCheckinsAndResults(t *testing.T) {
	old := eventsEvery
	eventsEvery = 20 * time.Millisecond
	t.Cleanup(func() { eventsEvery = old })
	a := newAPI(t)
	addDevice(t, a, "d1", time.Now().Add(-time.Hour))
	putResult(t, a, "old", "d1", protocol.StatusSucceeded, time.Now().Add(-time.Minute))

	ch, res, cancel := openEvents(t, a, accounts.RoleAuditor)
	defer cancel()
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("GET /events: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	next(t, ch, "ready")
	if n := openStreams.Load(); n != 1 {
		t.Fatalf("%d streams open, want 1", n)
	}

	if _, err := a.s.Store.RecordCheckin(context.Background(), "d1", store.Checkin{Facts: protocol.Facts{Hostname: "mac-d1"}, At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	var ci CheckinEvent
	if err := json.Unmarshal([]byte(next(t, ch, "checkin").data), &ci); err != nil || ci.DeviceID != "d1" || ci.Name != "mac-d1" {
		t.Fatalf("checkin event %+v, %v", ci, err)
	}

	putResult(t, a, "r-new", "d1", protocol.StatusFailed, time.Now())
	var re ResultEvent
	if err := json.Unmarshal([]byte(next(t, ch, "result").data), &re); err != nil || re.RunID != "r-new" || re.Status != protocol.StatusFailed {
		t.Fatalf("result event %+v, %v (the result from before the stream must not be sent)", re, err)
	}
	// Each result once: a second look sends nothing more.
	putResult(t, a, "r-next", "d1", protocol.StatusSucceeded, time.Now())
	if err := json.Unmarshal([]byte(next(t, ch, "result").data), &re); err != nil || re.RunID != "r-next" {
		t.Fatalf("second result event %+v, %v; want r-next, r-new only once", re, err)
	}

	// The stream's work ends with the request.
	cancel()
	deadline := time.Now().Add(5 * time.Second)
	for openStreams.Load() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the stream still runs after its request ended")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestConsoleEventsNeedCredentials(t *testing.T) {
	a := newAPI(t)
	_, res, cancel := openEvents(t, a, "")
	defer cancel()
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("GET /events without credentials: %d, want 401", res.StatusCode)
	}
}

// A stream ends when its credentials do: a revoked token stops it at the
// next heartbeat.
func TestConsoleEventsEndWithTheirCredentials(t *testing.T) {
	old := heartbeatEvery
	heartbeatEvery = 20 * time.Millisecond
	t.Cleanup(func() { heartbeatEvery = old })
	a := newAPI(t)
	ch, res, cancel := openEvents(t, a, accounts.RoleAuditor)
	defer cancel()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /events: %d", res.StatusCode)
	}
	next(t, ch, "ready")
	if _, err := a.s.RevokeAPIToken(context.Background(), "test-auditor"); err != nil {
		t.Fatal(err)
	}
	timeout := time.After(5 * time.Second)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-timeout:
			t.Fatal("the stream goes on after its token was revoked")
		}
	}
}
