// Package registration is the daemon's "Register this Mac" page: while the
// device is not enrolled (the generic package, with no enrollment file and
// no managed preferences), the daemon serves it on loopback, offers it to
// the console user's session, and enrolls with the server address and token
// the user pastes there. Once enrolled it goes on as the normal daemon.
package registration

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"errors"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"

	"go.uber.org/zap"

	"github.com/mobileatwork/mobileatwork/agent"
	"github.com/mobileatwork/mobileatwork/internal/localweb"
)

//go:embed web
var web embed.FS

var index = template.Must(template.ParseFS(web, "web/index.html"))

// MaxBody bounds a registration request: a server address and a token
// take a few hundred bytes.
const MaxBody = 16 << 10

// Form field names; the page's script sends them.
const (
	FieldServer    = "server"
	FieldToken     = "token"
	FieldFormToken = "form_token"
)

// EnrollFunc enrolls the device with the server at serverURL using token:
// agent.Enroll with the daemon's state directory, facts and capabilities.
type EnrollFunc func(ctx context.Context, serverURL, token string) (*agent.Identity, error)

// Answer is what POST /register returns.
type Answer struct {
	Registered bool   `json:"registered"`
	Message    string `json:"message"`
	// Field names the form field to correct: "server", "token" or "".
	Field string `json:"field,omitempty"`
}

// Page serves the registration page and performs the enrollment. The
// localweb.Server in front of it demands the per-run secret of every
// request; the page adds its own form token and a strict same-origin check
// to the POST that enrolls.
type Page struct {
	enroll    EnrollFunc
	log       *zap.Logger
	formToken string

	mu   sync.Mutex                     // one enrollment at a time, by the page or the daemon
	id   atomic.Pointer[agent.Identity] // set once enrolled through the page
	done chan struct{}                  // closed then
}

// NewPage returns the page of a device that is not enrolled.
func NewPage(enroll EnrollFunc, log *zap.Logger) (*Page, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, err
	}
	if log == nil {
		log = zap.NewNop()
	}
	return &Page{enroll: enroll, log: log, formToken: base64.RawURLEncoding.EncodeToString(raw), done: make(chan struct{})}, nil
}

// Done is closed once the page enrolled the device.
func (p *Page) Done() <-chan struct{} { return p.done }

// Identity is the identity the page enrolled, nil before.
func (p *Page) Identity() *agent.Identity { return p.id.Load() }

// Exclusive runs f while no enrollment of the page runs: the daemon's own
// attempts (the enrollment file) never race the user's.
func (p *Page) Exclusive(f func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f()
}

// Handler serves:
//
//	GET  /               the page
//	GET  /register.css   its style
//	GET  /register.js    its script
//	POST /register       enroll with the form's server address and token
func (p *Page) Handler() http.Handler {
	static, _ := fs.Sub(web, "web")
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", p.serveIndex)
	mux.Handle("GET /register.css", http.FileServerFS(static))
	mux.Handle("GET /register.js", http.FileServerFS(static))
	mux.HandleFunc("POST /register", p.serveRegister)
	return mux
}

func (p *Page) serveIndex(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	data := struct {
		FormToken  string
		Registered bool
	}{p.formToken, p.Identity() != nil}
	if err := index.Execute(w, data); err != nil {
		p.log.Warn("registration page", zap.Error(err))
	}
}

// Refusals of a request that did not come from the page itself.
const (
	msgCrossOrigin = "This request did not come from the registration page. Open the page again and register from there."
	msgFormToken   = "The page is out of date. Reload it and try again."
	msgTooLarge    = "What was sent is far too long for a server address and a token. Paste the token alone and try again."
)

func (p *Page) serveRegister(w http.ResponseWriter, r *http.Request) {
	// localweb lets a request without Origin through; this one enrolls the
	// Mac, so it must prove it comes from the page's own origin.
	if !sameOrigin(r) {
		localweb.WriteJSON(w, http.StatusForbidden, Answer{Message: msgCrossOrigin})
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxBody)
	if err := r.ParseForm(); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			localweb.WriteJSON(w, http.StatusRequestEntityTooLarge, Answer{Message: msgTooLarge})
			return
		}
		localweb.WriteJSON(w, http.StatusBadRequest, Answer{Message: msgFormToken})
		return
	}
	if subtle.ConstantTimeCompare([]byte(r.PostForm.Get(FieldFormToken)), []byte(p.formToken)) != 1 {
		localweb.WriteJSON(w, http.StatusForbidden, Answer{Message: msgFormToken})
		return
	}
	server, token := r.PostForm.Get(FieldServer), r.PostForm.Get(FieldToken)
	code, a := p.register(r.Context(), server, token)
	localweb.WriteJSON(w, code, a)
}

// register checks the inputs, enrolls, and says in plain words how it went.
func (p *Page) register(ctx context.Context, server, token string) (int, Answer) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if id := p.id.Load(); id != nil {
		return http.StatusOK, registeredAnswer(id)
	}
	serverURL, token, err := checkInputs(server, token)
	if err != nil {
		return http.StatusBadRequest, Answer{Message: Explain(err), Field: Blame(err)}
	}
	p.log.Info("registering this Mac from the registration page", zap.String("server", serverURL))
	id, err := p.enroll(ctx, serverURL, token)
	if err != nil {
		// The error never holds the token: Enroll names the server only.
		p.log.Warn("registration from the page failed", zap.String("server", serverURL), zap.Error(err))
		return http.StatusUnprocessableEntity, Answer{Message: Explain(err), Field: Blame(err)}
	}
	p.log.Info("registered from the registration page", zap.String("device", id.DeviceID), zap.String("server", id.ServerURL))
	p.id.Store(id)
	close(p.done)
	return http.StatusOK, registeredAnswer(id)
}

func registeredAnswer(id *agent.Identity) Answer {
	return Answer{Registered: true, Message: "This Mac is registered with " + hostOf(id.ServerURL) + ". Apps@Work opens in a moment."}
}

// sameOrigin reports whether the request names the page's own origin, in
// Origin or, from a browser that sends none, in Referer.
func sameOrigin(r *http.Request) bool {
	own := "http://" + r.Host
	if o := r.Header.Get("Origin"); o != "" {
		return o == own
	}
	ref, err := url.Parse(r.Header.Get("Referer"))
	return err == nil && ref.Scheme+"://"+ref.Host == own
}

func hostOf(serverURL string) string {
	if u, err := url.Parse(serverURL); err == nil && u.Host != "" {
		return u.Hostname()
	}
	return serverURL
}

// checkInputs reads the form as a person fills it: a server address may
// come without https://, and a token pasted from a mail may be wrapped.
func checkInputs(server, token string) (string, string, error) {
	server = strings.TrimSpace(server)
	token = strings.Join(strings.Fields(token), "")
	switch {
	case server == "":
		return "", "", errNoServer
	case token == "":
		return "", "", errNoToken
	}
	if !strings.Contains(server, "://") {
		server = "https://" + server
	}
	u, err := url.Parse(server)
	if err != nil || u.Scheme != "https" || u.Hostname() == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return "", "", errBadServer
	}
	return strings.TrimRight(server, "/"), token, nil
}
