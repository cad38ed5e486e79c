package onboarding

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/mobileatwork/mobileatwork/internal/routines"
	"github.com/mobileatwork/mobileatwork/protocol"
)

func TestPage(t *testing.T) {
	clock := clockwork.NewFakeClockAt(enrolled.Add(time.Minute))
	d := newFakeDevice()
	m := newMachine(t, t.TempDir(), clock, d)
	plan, apps := samplePlan()
	m.Update(t.Context(), plan, apps)
	page := NewPage(m)
	g := routines.New(t.Context())
	g.Go(page.Publish)
	ts := httptest.NewServer(page)
	defer ts.Close()
	defer g.Close()

	get := func(path string) (*http.Response, string) {
		t.Helper()
		res, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		return res, string(b)
	}
	t.Run("page", func(t *testing.T) {
		res, body := get("/")
		if res.StatusCode != 200 || !strings.Contains(body, `role="progressbar"`) || !strings.Contains(body, `aria-live="polite"`) {
			t.Errorf("GET / = %d, want the page with a progressbar and a live region:\n%s", res.StatusCode, body)
		}
		for _, p := range []string{"/onboarding.js", "/onboarding.css"} {
			if res, _ := get(p); res.StatusCode != 200 {
				t.Errorf("GET %s = %d", p, res.StatusCode)
			}
		}
		if res, _ := get("/index.html"); res.StatusCode == 200 {
			t.Errorf("GET /index.html = 200: only the listed files are served")
		}
	})
	t.Run("status", func(t *testing.T) {
		_, body := get("/api/status")
		var r protocol.OnboardingReport
		if err := json.Unmarshal([]byte(body), &r); err != nil {
			t.Fatal(err)
		}
		if r.State != protocol.OnboardingRunning || len(r.Stages) != 3 || r.Log != nil || r.DeviceID != "" {
			t.Errorf("status = %+v; want running, 3 stages, no log or device id", r)
		}
	})
	t.Run("events", func(t *testing.T) {
		res, err := http.Get(ts.URL + "/api/events")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		lines := make(chan string)
		go func() {
			sc := bufio.NewScanner(res.Body)
			for sc.Scan() {
				if strings.HasPrefix(sc.Text(), "data: ") {
					lines <- sc.Text()
				}
			}
			close(lines)
		}()
		first := <-lines
		if !strings.Contains(first, `"status":"pending"`) {
			t.Fatalf("first event %s: want the snapshot with pending items", first)
		}
		d.mu.Lock()
		d.profiles["com.example.wifi"] = true
		d.mu.Unlock()
		m.Tick(t.Context())
		select {
		case l := <-lines:
			if !strings.Contains(l, `"name":"Wi-Fi","kind":"profile","status":"installed"`) {
				t.Errorf("event after a change: %s", l)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no event after a change")
		}
	})
}

// FileSource wakes Changed when the state file changes, and its watch
// stops with its context.
func TestFileSourceWatch(t *testing.T) {
	dir := t.TempDir()
	clock := clockwork.NewFakeClock()
	src := &FileSource{StateDir: dir, Every: time.Second, Clock: clock}
	changed := src.Changed()
	ctx, cancel := context.WithCancel(t.Context())
	stopped := make(chan struct{})
	go func() { defer close(stopped); src.Watch(ctx) }()
	step(t, clock, time.Second)
	step(t, clock, 0) // the look is over
	select {
	case <-changed:
		t.Fatal("changed with the state file untouched")
	default:
	}
	if err := os.WriteFile(filepath.Join(dir, StateFile), []byte(`{"version":1,"state":"running"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	step(t, clock, time.Second)
	step(t, clock, 0)
	select {
	case <-changed:
	default:
		t.Fatal("no change seen after the state file was written")
	}
	if r := src.Report(); r.State != protocol.OnboardingRunning {
		t.Errorf("report after the change: %s, want running", r.State)
	}
	select {
	case <-src.Changed():
		t.Fatal("the next Changed is already closed")
	default:
	}
	cancel()
	<-stopped
}
