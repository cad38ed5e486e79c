package adminapi

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"sync"
	"testing"

	"github.com/mobileatwork/mobileatwork/server"
	"github.com/mobileatwork/mobileatwork/server/accounts"
)

// browser is a client with a cookie jar, as the console's page is.
type browser struct {
	t    *testing.T
	a    *api
	c    *http.Client
	csrf string
}

func (a *api) browser() *browser {
	jar, _ := cookiejar.New(nil)
	pool := x509.NewCertPool()
	pool.AddCert(a.s.Tenant.CA)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
	return &browser{t: a.t, a: a, c: &http.Client{Jar: jar, Transport: &validating{a: a, next: tr}}}
}

func (b *browser) send(method, path string, body any, csrf bool) (int, Error, *http.Response) {
	b.t.Helper()
	var buf bytes.Buffer
	if body != nil {
		json.NewEncoder(&buf).Encode(body)
	}
	req, _ := http.NewRequest(method, b.a.srv.URL+Prefix+path, &buf)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if csrf {
		req.Header.Set(CSRFHeader, b.csrf)
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	var e Error
	var raw json.RawMessage
	json.NewDecoder(res.Body).Decode(&raw)
	json.Unmarshal(raw, &e)
	if method == http.MethodPost && path == "/session" && res.StatusCode == http.StatusOK {
		var sv SessionView
		json.Unmarshal(raw, &sv)
		b.csrf = sv.CSRF
	}
	return res.StatusCode, e, res
}

func lowKDF(t *testing.T) {
	old := *accounts.Params
	accounts.Params.Memory, accounts.Params.Iterations = 64, 1
	t.Cleanup(func() { *accounts.Params = old })
}

// Signing in sets a cookie the page's script cannot read and that only
// travels over HTTPS to this site; a change with it needs the session's
// CSRF token; signing out ends the session on the server.
func TestConsoleSession(t *testing.T) {
	lowKDF(t)
	a := newAPI(t)
	ctx := context.Background()
	if _, err := a.s.AddAccount(ctx, "ada", accounts.RoleOperator, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	b := a.browser()
	if code, e, _ := b.send("GET", "/configurations", nil, false); code != 401 || e.Code != "unauthenticated" {
		t.Fatalf("before sign-in: %d %+v", code, e)
	}
	code, e, res := b.send("POST", "/session", LoginRequest{Name: "ada", Password: "correct horse battery"}, false)
	if code != 200 {
		t.Fatalf("sign in: %d %+v", code, e)
	}
	var cookie *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == SessionCookie {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || !cookie.Secure || cookie.SameSite != http.SameSiteStrictMode || cookie.Path != "/" {
		t.Fatalf("session cookie %+v: want HttpOnly, Secure, SameSite=Strict", cookie)
	}
	if b.csrf == "" {
		t.Fatal("sign-in answered no CSRF token")
	}
	if code, e, _ := b.send("GET", "/configurations", nil, false); code != 200 {
		t.Fatalf("a read with the session: %d %+v", code, e)
	}
	add := map[string]any{"name": "t1", "uses": 1, "ttl": "1h"}
	// An operator may not make enrollment tokens: refused on the server.
	if code, e, _ := b.send("POST", "/tokens", add, true); code != 403 || e.Code != "forbidden" {
		t.Errorf("operator makes a token: %d %+v, want 403", code, e)
	}
	script := map[string]any{"name": "hello", "body": []byte("#!/bin/sh\necho hi\n")}
	if code, e, _ := b.send("POST", "/scripts", script, false); code != 403 || e.Code != "forbidden" {
		t.Errorf("a change without the CSRF token: %d %+v, want 403", code, e)
	}
	saved := b.csrf
	b.csrf = "mawcs_forged"
	if code, _, _ := b.send("POST", "/scripts", script, true); code != 403 {
		t.Errorf("a change with another CSRF token: %d, want 403", code)
	}
	b.csrf = saved
	if code, e, _ := b.send("POST", "/scripts", script, true); code != 200 {
		t.Fatalf("a change with the CSRF token: %d %+v", code, e)
	}
	es, err := a.s.AuditLog(ctx, server.AuditQuery{Action: "script."})
	if err != nil || len(es) != 1 || es[0].Actor != "ada" || es[0].ActorKind != "account" || es[0].Source != "127.0.0.1" {
		t.Errorf("audit of the console's change: %+v %v", es, err)
	}
	if code, e, _ := b.send("DELETE", "/session", nil, false); code != 403 {
		t.Errorf("sign-out without the CSRF token: %d %+v, want 403", code, e)
	}
	if code, e, _ := b.send("DELETE", "/session", nil, true); code != 200 {
		t.Fatalf("sign out: %d %+v", code, e)
	}
	// The old cookie, replayed, no longer opens anything.
	replay := a.browser()
	replay.c.Jar.SetCookies(res.Request.URL, []*http.Cookie{{Name: SessionCookie, Value: cookie.Value}})
	if code, _, _ := replay.send("GET", "/configurations", nil, false); code != 401 {
		t.Errorf("a signed-out session's cookie: %d, want 401", code)
	}
}

// Five failed sign-ins lock the account: the right password is then
// refused with code locked, and failures on other accounts do not count.
func TestSignInLockout(t *testing.T) {
	lowKDF(t)
	a := newAPI(t)
	ctx := context.Background()
	for _, n := range []string{"ada", "bob"} {
		if _, err := a.s.AddAccount(ctx, n, accounts.RoleAuditor, "correct horse battery"); err != nil {
			t.Fatal(err)
		}
	}
	b := a.browser()
	for i := range accounts.MaxFailures {
		code, e, _ := b.send("POST", "/session", LoginRequest{Name: "ada", Password: "wrong"}, false)
		if i < accounts.MaxFailures-1 && (code != 401 || e.Code != "unauthenticated") {
			t.Fatalf("failure %d: %d %+v, want 401", i+1, code, e)
		}
	}
	if code, e, _ := b.send("POST", "/session", LoginRequest{Name: "ada", Password: "correct horse battery"}, false); code != 423 || e.Code != "locked" {
		t.Errorf("right password on a locked account: %d %+v, want 423 locked", code, e)
	}
	if code, e, _ := b.send("POST", "/session", LoginRequest{Name: "bob", Password: "correct horse battery"}, false); code != 200 {
		t.Errorf("another account: %d %+v", code, e)
	}
	for _, bad := range []any{map[string]any{"name": "ada"}, map[string]any{"user": "ada", "password": "x"}, "not an object"} {
		if code, e, _ := b.send("POST", "/session", bad, false); code != 400 || e.Code != "bad_request" {
			t.Errorf("sign-in with %v: %d %+v, want 400", bad, code, e)
		}
	}
}

// Sign-ins from many clients at once each count: the lock holds after
// MaxFailures of them, however they interleave.
func TestSignInLockoutUnderConcurrency(t *testing.T) {
	lowKDF(t)
	a := newAPI(t)
	if _, err := a.s.AddAccount(context.Background(), "ada", accounts.RoleAuditor, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 3 * accounts.MaxFailures {
		wg.Go(func() {
			b := a.browser()
			b.send("POST", "/session", LoginRequest{Name: "ada", Password: "wrong"}, false)
		})
	}
	wg.Wait()
	b := a.browser()
	if code, e, _ := b.send("POST", "/session", LoginRequest{Name: "ada", Password: "correct horse battery"}, false); code != 423 {
		t.Errorf("after %d concurrent failures: %d %+v, want 423 locked", 3*accounts.MaxFailures, code, e)
	}
}
