package adminapi

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"go.uber.org/zap"

	"github.com/mobileatwork/mobileatwork/server"
	"github.com/mobileatwork/mobileatwork/server/accounts"
)

// api is a tenant served by the admin API on a TLS test server, and the
// API tokens of each role.
type api struct {
	t      *testing.T
	s      *server.Server
	srv    *httptest.Server
	tokens map[accounts.Role]string
	router routers.Router
}

func newAPI(t *testing.T) *api {
	t.Helper()
	s, err := server.Init(t.TempDir(), "Test tenant", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	s.Log = zap.NewNop()
	srv := httptest.NewUnstartedServer(Handler(s, nil))
	// The tenant's own server certificate, as the admin listener serves.
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{s.Tenant.TLS}, MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	doc, err := OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	// The router matches full URLs: the document's server is the test's.
	d := *doc
	d.Servers = nil
	d.AddServer(&openapi3.Server{URL: srv.URL + Prefix})
	router, err := legacy.NewRouter(&d)
	if err != nil {
		t.Fatal(err)
	}
	a := &api{t: t, s: s, srv: srv, tokens: map[accounts.Role]string{}, router: router}
	for _, r := range accounts.Roles {
		a.tokens[r] = testToken(t, s, r)
	}
	return a
}

// remote is a Conn on the API as role.
func (a *api) remote(role accounts.Role) Conn {
	a.t.Helper()
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: a.s.Tenant.CA.Raw})
	r, err := NewRemote(a.srv.URL, a.tokens[role], Trust{CAPEM: ca})
	if err != nil {
		a.t.Fatal(err)
	}
	r.client.Transport = &validating{a: a, next: r.client.Transport}
	return r
}

// local is a Conn on the same tenant in local mode.
func (a *api) local() Conn {
	return Local{S: a.s, Actor: server.Actor{Name: "local:test", Kind: "local", Role: accounts.RoleAdmin, Source: "cli"}}
}

// do sends a raw request as role ("" for none) and returns the status
// and body; the exchange is checked against the OpenAPI document.
func (a *api) do(role accounts.Role, method, path string, body any) (int, []byte) {
	a.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			a.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, a.srv.URL+Prefix+path, rd)
	if err != nil {
		a.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if role != "" {
		req.Header.Set("Authorization", "Bearer "+a.tokens[role])
	}
	pool := x509.NewCertPool()
	pool.AddCert(a.s.Tenant.CA)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
	c := &http.Client{Transport: &validating{a: a, next: tr}}
	res, err := c.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// validating checks every exchange that matches a documented route
// against the OpenAPI document: what is served is what is documented.
type validating struct {
	a    *api
	next http.RoundTripper
}

func (v *validating) RoundTrip(req *http.Request) (*http.Response, error) {
	t := v.a.t
	var reqBody []byte
	if req.Body != nil {
		reqBody, _ = io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	res, err := v.next.RoundTrip(req)
	if err != nil {
		return res, err
	}
	resBody, _ := io.ReadAll(res.Body)
	res.Body.Close()
	res.Body = io.NopCloser(bytes.NewReader(resBody))
	route, params, rerr := v.a.router.FindRoute(req)
	if rerr != nil {
		if res.StatusCode != http.StatusNotFound && res.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("%s %s answered %d but is not in the OpenAPI document: %v", req.Method, req.URL.Path, res.StatusCode, rerr)
		}
		return res, nil
	}
	check := req.Clone(context.Background())
	check.Body = io.NopCloser(bytes.NewReader(reqBody))
	in := &openapi3filter.RequestValidationInput{Request: check, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
	if res.StatusCode < 400 {
		if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
			t.Errorf("%s %s: the request does not match the OpenAPI document: %v", req.Method, req.URL.Path, err)
		}
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: res.StatusCode, Header: res.Header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true}}
	out.SetBodyBytes(resBody)
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		t.Errorf("%s %s: the %d answer does not match the OpenAPI document: %v\n%s", req.Method, req.URL.Path, res.StatusCode, err, firstLine(resBody))
	}
	return res, nil
}

func firstLine(b []byte) string {
	s, _, _ := strings.Cut(string(b), "\n")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
