// Package localweb serves the agent's local pages (Apps@Work, onboarding
// progress) to a browser on the same Mac.
//
// The agent runs as root, so its pages are an attack surface for every local
// process and every web site the user visits. Hence: the listener is loopback
// only; each server has a random per-run secret that a client must present
// (once in the URL, then as an HttpOnly, SameSite=Strict cookie); the Host
// header must name the loopback address, which defeats DNS rebinding; state
// changing requests must come from the page's own origin; and every answer
// carries a strict Content-Security-Policy and is never cached.
package localweb

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ErrNotLoopback refuses a listen address that other machines could reach.
var ErrNotLoopback = errors.New("local pages listen on a loopback address only (127.0.0.1 or ::1)")

// SecretParam is the query parameter that carries the secret once.
const SecretParam = "s"

// CSP allows the page's own scripts, styles, images and connections only:
// no inline script, no external request, no framing.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// Options configure a Server.
type Options struct {
	// Listen is the address to bind; "" is 127.0.0.1:0 (a free port).
	Listen string
	// Rand is the secret's source; nil is crypto/rand.
	Rand io.Reader
}

// Server is one loopback page server.
type Server struct {
	ln     net.Listener
	h      http.Handler
	secret string
	port   string
	hosts  map[string]bool // accepted Host header values
	cookie string
}

// New binds the loopback listener and wraps h with the access checks.
func New(h http.Handler, o Options) (*Server, error) {
	addr := o.Listen
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("listen address %q: %w", addr, err)
	}
	if host == "localhost" {
		host = "127.0.0.1"
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("listen address %q: %w", addr, ErrNotLoopback)
	}
	src := o.Rand
	if src == nil {
		src = rand.Reader
	}
	raw := make([]byte, 32)
	if _, err := io.ReadFull(src, raw); err != nil {
		return nil, fmt.Errorf("make page secret: %w", err)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, port))
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	port = strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	s := &Server{
		ln: ln, h: h, secret: base64.RawURLEncoding.EncodeToString(raw), port: port,
		hosts: map[string]bool{
			ln.Addr().String():                  true,
			net.JoinHostPort("localhost", port): true,
		},
		// Cookies ignore ports: the name carries it, so two page servers
		// of the agent (catalog, onboarding) never overwrite each other's.
		cookie: "maw_" + port,
	}
	return s, nil
}

// Addr is the bound address.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// URL is the address to open, secret included. Give it to the console user
// only: whoever holds it can use the pages until the server stops.
func (s *Server) URL() string { return s.URLFor("/") }

// URLFor is URL with another path (and fragment), e.g. "/#/app/ID".
func (s *Server) URLFor(path string) string {
	u := url.URL{Scheme: "http", Host: s.ln.Addr().String(), Path: path}
	frag := ""
	if i := strings.IndexByte(path, '#'); i >= 0 {
		u.Path, frag = path[:i], path[i:]
	}
	u.RawQuery = url.Values{SecretParam: {s.secret}}.Encode()
	return u.String() + frag
}

// Handler is the guarded handler, for tests that drive it without a socket.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// Serve answers requests until ctx is done. Requests' contexts end with ctx,
// so live event streams close and the shutdown does not wait for them.
func (s *Server) Serve(ctx context.Context) error {
	hs := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       time.Minute,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	// The accept loop runs beside the wait for ctx; Serve returns only once
	// it has.
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(s.ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		shut, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		err := hs.Shutdown(shut)
		<-errc // http.ErrServerClosed once Shutdown has begun
		if err != nil {
			return fmt.Errorf("stop page server: %w", err)
		}
		return nil
	}
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", CSP)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")

	// A rebinding page reaches us under its own host name: refuse it
	// before looking at anything else.
	if !s.hosts[r.Host] {
		http.Error(w, "forbidden: unexpected Host", http.StatusForbidden)
		return
	}
	if q := r.URL.Query().Get(SecretParam); q != "" {
		if !s.validSecret(q) {
			http.Error(w, "forbidden: wrong or expired link; open the address the agent printed", http.StatusForbidden)
			return
		}
		http.SetCookie(w, &http.Cookie{
			Name: s.cookie, Value: s.secret, Path: "/",
			HttpOnly: true, SameSite: http.SameSiteStrictMode,
		})
		// Take the secret out of the address bar and the history.
		clean := *r.URL
		v := clean.Query()
		v.Del(SecretParam)
		clean.RawQuery = v.Encode()
		clean.Scheme, clean.Host = "", ""
		http.Redirect(w, r, clean.RequestURI(), http.StatusSeeOther)
		return
	}
	c, err := r.Cookie(s.cookie)
	if err != nil || !s.validSecret(c.Value) {
		http.Error(w, "forbidden: open the address the agent printed (it carries the access key)", http.StatusForbidden)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		// SameSite=Strict already keeps the cookie off cross-site requests;
		// the Origin check also covers browsers that ignore it.
		if o := r.Header.Get("Origin"); o != "" && o != "http://"+r.Host {
			http.Error(w, "forbidden: cross-origin request", http.StatusForbidden)
			return
		}
	}
	s.h.ServeHTTP(w, r)
}

func (s *Server) validSecret(v string) bool {
	return subtle.ConstantTimeCompare([]byte(v), []byte(s.secret)) == 1
}
