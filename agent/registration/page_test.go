package registration

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/mobileatwork/mobileatwork/agent"
	"github.com/mobileatwork/mobileatwork/internal/localweb"
	"github.com/mobileatwork/mobileatwork/protocol"
)

// goodToken is well formed; only a server can say whether it is valid.
var goodToken = protocol.EnrollToken{Secret: make([]byte, 32), CAPin: [32]byte{1}}.String()

// fixture is the page behind the same localweb guard the daemon puts in
// front of it, driven without a socket.
type fixture struct {
	t      *testing.T
	page   *Page
	h      http.Handler
	host   string
	cookie *http.Cookie
	calls  atomic.Int32
}

func newFixture(t *testing.T, enroll EnrollFunc) *fixture {
	t.Helper()
	f := &fixture{t: t}
	page, err := NewPage(func(ctx context.Context, server, token string) (*agent.Identity, error) {
		f.calls.Add(1)
		return enroll(ctx, server, token)
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := localweb.New(page.Handler(), localweb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f.page, f.h, f.host = page, srv.Handler(), srv.Addr().String()
	// The offered link trades the secret for the cookie, as in a browser.
	u, _ := url.Parse(srv.URL())
	res := f.do(http.MethodGet, u.RequestURI(), "", nil)
	for _, c := range res.Result().Cookies() {
		f.cookie = c
	}
	if res.Code != http.StatusSeeOther || f.cookie == nil {
		t.Fatalf("secret link: %d, cookie %v", res.Code, f.cookie)
	}
	return f
}

func (f *fixture) do(method, target, body string, hdr map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	req.Host = f.host
	if body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if f.cookie != nil {
		req.AddCookie(f.cookie)
	}
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, req)
	return w
}

var formTokenRE = regexp.MustCompile(`name="form_token" value="([^"]+)"`)

// formToken reads the page's hidden form token.
func (f *fixture) formToken() string {
	f.t.Helper()
	res := f.do(http.MethodGet, "/", "", nil)
	m := formTokenRE.FindStringSubmatch(res.Body.String())
	if res.Code != http.StatusOK || m == nil {
		f.t.Fatalf("page: %d %q", res.Code, res.Body.String())
	}
	return m[1]
}

func (f *fixture) origin() string { return "http://" + f.host }

// post sends the form as the page's script does.
func (f *fixture) post(server, token string) (int, Answer) {
	f.t.Helper()
	form := url.Values{FieldServer: {server}, FieldToken: {token}, FieldFormToken: {f.formToken()}}
	res := f.do(http.MethodPost, "/register", form.Encode(), map[string]string{"Origin": f.origin()})
	var a Answer
	if err := json.Unmarshal(res.Body.Bytes(), &a); err != nil {
		f.t.Fatalf("answer %d %q: %v", res.Code, res.Body.String(), err)
	}
	return res.Code, a
}

func noEnroll(context.Context, string, string) (*agent.Identity, error) {
	return nil, errors.New("must not be called")
}

func TestPageNeedsTheSecret(t *testing.T) {
	f := newFixture(t, noEnroll)
	token := f.formToken()
	f.cookie = nil
	form := url.Values{FieldServer: {"mdm.example.com"}, FieldToken: {goodToken}, FieldFormToken: {token}}.Encode()
	tests := []struct {
		name, method, target, body string
		cookie                     *http.Cookie
	}{
		{"page without the secret", http.MethodGet, "/", "", nil},
		{"page with a wrong secret link", http.MethodGet, "/?s=wrong", "", nil},
		{"page with a wrong cookie", http.MethodGet, "/", "", &http.Cookie{Name: "maw_" + f.host[strings.LastIndex(f.host, ":")+1:], Value: "wrong"}},
		{"script without the secret", http.MethodGet, "/register.js", "", nil},
		{"registration without the secret", http.MethodPost, "/register", form, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f.cookie = tc.cookie
			res := f.do(tc.method, tc.target, tc.body, map[string]string{"Origin": f.origin()})
			if res.Code != http.StatusForbidden || strings.Contains(res.Body.String(), "form_token") {
				t.Fatalf("%d %q, want 403 and no page", res.Code, res.Body.String())
			}
		})
	}
	if n := f.calls.Load(); n != 0 {
		t.Fatalf("enrolled %d times without the secret", n)
	}
}

func TestPageServedWithSecret(t *testing.T) {
	f := newFixture(t, noEnroll)
	for _, p := range []string{"/", "/register.css", "/register.js"} {
		res := f.do(http.MethodGet, p, "", nil)
		if res.Code != http.StatusOK || res.Header().Get("Content-Security-Policy") != localweb.CSP {
			t.Errorf("%s: %d, CSP %q", p, res.Code, res.Header().Get("Content-Security-Policy"))
		}
	}
	body := f.do(http.MethodGet, "/", "", nil).Body.String()
	if strings.Contains(body, "<script>") || strings.Contains(body, "style=") || strings.Contains(body, "http") {
		t.Errorf("the page holds inline script or style, or an external address:\n%s", body)
	}
}

func TestRegistrationRefusesOtherOrigins(t *testing.T) {
	f := newFixture(t, noEnroll)
	good := f.formToken()
	tests := []struct {
		name      string
		hdr       map[string]string
		formToken string
		want      string
	}{
		{"no Origin, no Referer", nil, good, msgCrossOrigin},
		{"Referer of another site", map[string]string{"Referer": "https://evil.example/"}, good, msgCrossOrigin},
		{"Referer of another port", map[string]string{"Referer": "http://127.0.0.1:1/"}, good, msgCrossOrigin},
		{"Origin of another site", map[string]string{"Origin": "https://evil.example"}, good, "cross-origin"},
		{"Origin null", map[string]string{"Origin": "null"}, good, "cross-origin"},
		{"no form token", map[string]string{"Origin": f.origin()}, "", msgFormToken},
		{"wrong form token", map[string]string{"Origin": f.origin()}, good + "x", msgFormToken},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			form := url.Values{FieldServer: {"mdm.example.com"}, FieldToken: {goodToken}, FieldFormToken: {tc.formToken}}
			res := f.do(http.MethodPost, "/register", form.Encode(), tc.hdr)
			if res.Code != http.StatusForbidden || !strings.Contains(res.Body.String(), tc.want) {
				t.Fatalf("%d %q, want 403 saying %q", res.Code, res.Body.String(), tc.want)
			}
		})
	}
	// The page's own Referer, without Origin, is the page.
	form := url.Values{FieldServer: {""}, FieldToken: {goodToken}, FieldFormToken: {good}}
	res := f.do(http.MethodPost, "/register", form.Encode(), map[string]string{"Referer": f.origin() + "/"})
	if res.Code != http.StatusBadRequest || !strings.Contains(res.Body.String(), MsgNoServer) {
		t.Fatalf("same-origin Referer: %d %q", res.Code, res.Body.String())
	}
	if n := f.calls.Load(); n != 0 {
		t.Fatalf("enrolled %d times from refused requests", n)
	}
}

func TestRegistrationBodyLimit(t *testing.T) {
	f := newFixture(t, noEnroll)
	form := url.Values{FieldServer: {"mdm.example.com"}, FieldToken: {strings.Repeat("A", MaxBody)}, FieldFormToken: {f.formToken()}}
	res := f.do(http.MethodPost, "/register", form.Encode(), map[string]string{"Origin": f.origin()})
	if res.Code != http.StatusRequestEntityTooLarge || !strings.Contains(res.Body.String(), msgTooLarge) {
		t.Fatalf("%d %q, want 413", res.Code, res.Body.String())
	}
	if f.calls.Load() != 0 {
		t.Fatal("enrolled with an oversized request")
	}
}

// Bad inputs are refused in plain words before anything is sent, and
// nothing is written: the real enrollment is used, on a fresh state dir.
func TestRegistrationBadInputs(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state")
	f := newFixture(t, func(ctx context.Context, server, token string) (*agent.Identity, error) {
		return agent.Enroll(ctx, agent.EnrollOptions{StateDir: state, ServerURL: server, Token: token})
	})
	tests := []struct {
		name, server, token, want, field string
	}{
		{"no server", " ", goodToken, MsgNoServer, FieldServer},
		{"no token", "mdm.example.com", " \n", MsgNoToken, FieldToken},
		{"plain http", "http://mdm.example.com", goodToken, MsgBadServer, FieldServer},
		{"a path", "mdm.example.com/enroll", goodToken, MsgBadServer, FieldServer},
		{"user in the address", "https://ada@mdm.example.com", goodToken, MsgBadServer, FieldServer},
		{"not a token", "mdm.example.com", "hello", MsgBadToken, FieldToken},
		{"token cut short", "mdm.example.com", goodToken[:40], MsgBadToken, FieldToken},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, a := f.post(tc.server, tc.token)
			if code/100 != 4 || a.Registered || a.Message != tc.want || a.Field != tc.field {
				t.Fatalf("%d %+v, want %q on %s", code, a, tc.want, tc.field)
			}
		})
	}
	if _, err := os.Stat(state); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("state written after refusals: %v", err)
	}
	select {
	case <-f.page.Done():
		t.Fatal("page done without a registration")
	default:
	}
}

// Each way enrollment fails reads as a sentence a Mac user understands.
func TestRegistrationFailuresInPlainWords(t *testing.T) {
	refused := func(status int, msg string) error {
		return fmt.Errorf("enroll with https://mdm.example.com: %w", &agent.HTTPError{Status: status, Message: msg})
	}
	dial := &url.Error{Op: "Post", URL: "https://mdm.example.com/v1/enroll", Err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}}
	tests := []struct {
		name  string
		err   error
		want  string
		field string
	}{
		{"token used", refused(401, "enrollment token refused: enrollment token already used"), MsgTokenUsed, FieldToken},
		{"token expired", refused(401, "enrollment token refused: enrollment token expired"), MsgTokenExpired, FieldToken},
		{"token revoked", refused(401, "enrollment token refused: enrollment token revoked"), MsgTokenRevoked, FieldToken},
		{"token unknown", refused(401, "enrollment token refused: enrollment token unknown"), MsgTokenUnknown, FieldToken},
		{"token of another tenant", refused(401, "enrollment token refused: it was made for another tenant"), MsgWrongServer, FieldToken},
		{"server error", refused(503, "overloaded"), MsgServerTrouble, ""},
		{"server unreachable", fmt.Errorf("enroll with https://mdm.example.com: %w", dial), MsgUnreachable, FieldServer},
		{"no such host", &url.Error{Op: "Post", Err: &net.DNSError{Err: "no such host", Name: "mdm.example.com", IsNotFound: true}}, MsgNotFound, FieldServer},
		{"another server's certificate", &url.Error{Op: "Post", Err: fmt.Errorf("%w: x509: certificate is valid for other.example", agent.ErrPinMismatch)}, MsgWrongServer, FieldServer},
		{"already enrolled", fmt.Errorf("%w (identity in /x)", agent.ErrAlreadyEnrolled), MsgAlready, ""},
		{"interrupted", fmt.Errorf("enroll: %w", context.Canceled), MsgInterrupted, ""},
		{"anything else", errors.New("enroll: bad answer: unexpected end of JSON input"), MsgFailed, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, func(context.Context, string, string) (*agent.Identity, error) { return nil, tc.err })
			code, a := f.post("mdm.example.com", goodToken)
			if code != http.StatusUnprocessableEntity || a.Registered || a.Message != tc.want || a.Field != tc.field {
				t.Fatalf("%d %+v, want %q on %q", code, a, tc.want, tc.field)
			}
			if strings.Contains(a.Message, goodToken) {
				t.Fatal("the answer repeats the token")
			}
		})
	}
}

// A server that does not listen, reached for real.
func TestRegistrationServerUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	state := filepath.Join(t.TempDir(), "state")
	f := newFixture(t, func(ctx context.Context, server, token string) (*agent.Identity, error) {
		return agent.Enroll(ctx, agent.EnrollOptions{StateDir: state, ServerURL: server, Token: token})
	})
	if code, a := f.post(addr, goodToken); a.Message != MsgUnreachable || a.Field != FieldServer {
		t.Fatalf("%d %+v, want %q", code, a, MsgUnreachable)
	}
}

func TestRegistrationOnce(t *testing.T) {
	id := &agent.Identity{DeviceID: "dev_1", ServerURL: "https://mdm.example.com:8443"}
	var got []string
	f := newFixture(t, func(_ context.Context, server, token string) (*agent.Identity, error) {
		got = append(got, server, token)
		return id, nil
	})
	token := f.formToken()
	// Typed as people do: no scheme, a token wrapped over two lines.
	code, a := f.post(" mdm.example.com:8443 ", goodToken[:20]+"\n"+goodToken[20:])
	if code != http.StatusOK || !a.Registered || !strings.Contains(a.Message, "mdm.example.com") {
		t.Fatalf("%d %+v", code, a)
	}
	if len(got) != 2 || got[0] != "https://mdm.example.com:8443" || got[1] != goodToken {
		t.Fatalf("enrolled with %q", got)
	}
	select {
	case <-f.page.Done():
	default:
		t.Fatal("page not done after the registration")
	}
	if f.page.Identity() != id {
		t.Fatal("identity not kept")
	}
	form := url.Values{FieldServer: {"other.example.com"}, FieldToken: {goodToken}, FieldFormToken: {token}}
	res := f.do(http.MethodPost, "/register", form.Encode(), map[string]string{"Origin": f.origin()})
	if res.Code != http.StatusOK || !strings.Contains(res.Body.String(), `"registered":true`) || f.calls.Load() != 1 {
		t.Fatalf("second registration: %d %q, %d enrollments", res.Code, res.Body.String(), f.calls.Load())
	}
	if body := f.do(http.MethodGet, "/", "", nil).Body.String(); !strings.Contains(body, "This Mac is registered") || strings.Contains(body, "form_token") {
		t.Fatalf("page after registration:\n%s", body)
	}
}
