package localweb

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

var fixedSecret = bytes.Repeat([]byte{7}, 32)

func newTest(t *testing.T, h http.Handler) *Server {
	t.Helper()
	s, err := New(h, Options{Rand: bytes.NewReader(fixedSecret)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.ln.Close() })
	return s
}

func hello() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello "+r.Method) })
}

func TestListenLoopbackOnly(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", "[::]:0", "192.0.2.1:0", "example.com:0", ":0", "nonsense"} {
		t.Run(addr, func(t *testing.T) {
			s, err := New(hello(), Options{Listen: addr})
			if err == nil {
				s.ln.Close()
				t.Fatalf("New(%q) accepted a non-loopback address", addr)
			}
			if addr != "nonsense" && !errors.Is(err, ErrNotLoopback) {
				t.Fatalf("New(%q) = %v, want ErrNotLoopback", addr, err)
			}
		})
	}
	for _, addr := range []string{"", "127.0.0.1:0", "localhost:0"} {
		s, err := New(hello(), Options{Listen: addr})
		if err != nil {
			t.Fatalf("New(%q) = %v", addr, err)
		}
		if !strings.HasPrefix(s.Addr().String(), "127.0.0.1:") {
			t.Errorf("New(%q) bound %s", addr, s.Addr())
		}
		s.ln.Close()
	}
}

func TestAccess(t *testing.T) {
	s := newTest(t, hello())
	host := s.Addr().String()
	secret := s.secret
	good := &http.Cookie{Name: s.cookie, Value: secret}
	tests := []struct {
		name   string
		method string
		target string
		host   string
		cookie *http.Cookie
		origin string
		want   int
	}{
		{"no secret", "GET", "/", host, nil, "", 403},
		{"wrong secret in URL", "GET", "/?s=nope", host, nil, "", 403},
		{"wrong cookie", "GET", "/", host, &http.Cookie{Name: s.cookie, Value: "nope"}, "", 403},
		{"cookie of another port", "GET", "/", host, &http.Cookie{Name: "maw_1", Value: secret}, "", 403},
		{"cookie", "GET", "/", host, good, "", 200},
		{"localhost host", "GET", "/", "localhost:" + s.port, good, "", 200},
		{"rebinding host", "GET", "/", "evil.example:" + s.port, good, "", 403},
		{"rebinding host with secret", "GET", "/?s=" + secret, "evil.example:" + s.port, nil, "", 403},
		{"other port", "GET", "/", "127.0.0.1:1", good, "", 403},
		{"same-origin post", "POST", "/", host, good, "http://" + host, 200},
		{"post without origin", "POST", "/", host, good, "", 200},
		{"cross-origin post", "POST", "/", host, good, "http://evil.example", 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.target, nil)
			r.Host = tt.host
			if tt.cookie != nil {
				r.AddCookie(tt.cookie)
			}
			if tt.origin != "" {
				r.Header.Set("Origin", tt.origin)
			}
			w := httptest.NewRecorder()
			s.Handler().ServeHTTP(w, r)
			if w.Code != tt.want {
				t.Fatalf("status %d, want %d (%s)", w.Code, tt.want, w.Body)
			}
			if w.Code == 200 && w.Body.String() != "hello "+tt.method {
				t.Fatalf("body %q", w.Body)
			}
			h := w.Header()
			if h.Get("Content-Security-Policy") != CSP || h.Get("X-Frame-Options") != "DENY" || h.Get("Cache-Control") != "no-store" {
				t.Fatalf("security headers missing: %v", h)
			}
		})
	}
}

func TestSecretBecomesCookie(t *testing.T) {
	s := newTest(t, hello())
	r := httptest.NewRequest("GET", "/app?q=term&s="+s.secret, nil)
	r.Host = s.Addr().String()
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, r)
	if w.Code != http.StatusSeeOther {
		t.Fatalf("status %d, want 303", w.Code)
	}
	if loc := w.Header().Get("Location"); loc != "/app?q=term" {
		t.Fatalf("redirect to %q: the secret must leave the address bar", loc)
	}
	cs := w.Result().Cookies()
	if len(cs) != 1 {
		t.Fatalf("cookies %v", cs)
	}
	c := cs[0]
	if c.Name != "maw_"+s.port || c.Value != s.secret || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" {
		t.Fatalf("cookie %+v: want HttpOnly SameSite=Strict maw_PORT", c)
	}
}

func TestSecretsDiffer(t *testing.T) {
	a, _ := New(hello(), Options{})
	b, _ := New(hello(), Options{})
	defer a.ln.Close()
	defer b.ln.Close()
	if a.secret == b.secret || len(a.secret) < 43 {
		t.Fatalf("secrets %q %q: want 32 random bytes each", a.secret, b.secret)
	}
}

func TestURLFor(t *testing.T) {
	s := newTest(t, hello())
	u, err := url.Parse(s.URLFor("/x#/app/1"))
	if err != nil {
		t.Fatal(err)
	}
	if u.Host != s.Addr().String() || u.Path != "/x" || u.Query().Get("s") != s.secret || u.Fragment != "/app/1" {
		t.Fatalf("URLFor = %s", u)
	}
}

// TestServeEndToEnd drives a real browser-like client: secret link, cookie
// jar, live events, then shutdown with the stream still open, after which
// nothing of the server is left running.
func TestServeEndToEnd(t *testing.T) {
	before := goleak.IgnoreCurrent()
	ev := &Events{Snapshot: func() []Event { return []Event{{Name: "state", Data: map[string]int{"n": 0}}} }}
	mux := http.NewServeMux()
	mux.Handle("GET /events", ev)
	mux.Handle("GET /", hello())
	s, err := New(mux, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()

	jar, _ := cookiejar.New(nil)
	tr := &http.Transport{}
	c := &http.Client{Jar: jar, Timeout: 5 * time.Second, Transport: tr}
	resp, err := c.Get(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "hello GET" || resp.Request.URL.RawQuery != "" {
		t.Fatalf("after the secret link: %d %q at %s", resp.StatusCode, body, resp.Request.URL)
	}

	resp, err = c.Get("http://" + s.Addr().String() + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	rd := bufio.NewReader(resp.Body)
	want := []string{"event: state", `data: {"n":0}`, "", ": connected", ""}
	for _, w := range want {
		line, err := rd.ReadString('\n')
		if err != nil || strings.TrimRight(line, "\n") != w {
			t.Fatalf("line %q (%v), want %q", line, err, w)
		}
	}
	ev.Publish(Event{Name: "state", Data: map[string]int{"n": 1}})
	for _, w := range []string{"event: state", `data: {"n":1}`} {
		line, err := rd.ReadString('\n')
		if err != nil || strings.TrimRight(line, "\n") != w {
			t.Fatalf("line %q (%v), want %q", line, err, w)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve = %v", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Serve did not stop with an event stream open")
	}
	resp.Body.Close()
	tr.CloseIdleConnections()
	goleak.VerifyNone(t, before)
}

func TestPublishDoesNotBlock(t *testing.T) {
	ev := &Events{}
	ch := ev.subscribe()
	defer ev.unsubscribe(ch)
	for i := range 100 {
		ev.Publish(Event{Data: i}) // never reads: must not block
	}
	if len(ch) != cap(ch) {
		t.Fatalf("buffered %d, want %d", len(ch), cap(ch))
	}
}

// Cookies are not port-scoped: a browser sends every page server's cookie
// to every listener on 127.0.0.1. Each server takes only the cookie named
// after its own port, and only with its own secret.
func TestCookieOfAnotherPageServer(t *testing.T) {
	a, err := New(hello(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.ln.Close()
	b, err := New(hello(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.ln.Close()
	tests := []struct {
		name    string
		cookies []*http.Cookie
		want    int
	}{
		{"a's cookie as it is", []*http.Cookie{{Name: a.cookie, Value: a.secret}}, 403},
		{"a's secret under b's name", []*http.Cookie{{Name: b.cookie, Value: a.secret}}, 403},
		{"b's secret under a's name", []*http.Cookie{{Name: a.cookie, Value: b.secret}}, 403},
		{"both, as the browser sends them", []*http.Cookie{{Name: a.cookie, Value: a.secret}, {Name: b.cookie, Value: b.secret}}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.Host = b.Addr().String()
			for _, c := range tt.cookies {
				r.AddCookie(c)
			}
			w := httptest.NewRecorder()
			b.Handler().ServeHTTP(w, r)
			if w.Code != tt.want {
				t.Fatalf("b answered %d, want %d", w.Code, tt.want)
			}
		})
	}
}
