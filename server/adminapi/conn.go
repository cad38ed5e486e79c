package adminapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mobileatwork/mobileatwork/protocol/tlspin"
	"github.com/mobileatwork/mobileatwork/server"
)

// Conn is where an administrative operation runs: on the tenant's data
// directory (Local) or on a server over HTTPS (Remote).
type Conn interface {
	// Server is the tenant opened locally, or nil in remote mode: the few
	// commands that need the host (init, serve, backup) ask for it.
	Server() *server.Server
	call(ctx context.Context, method, path string, req, resp any, do func(context.Context) (any, error)) error
}

// Call runs e with req on c.
func Call[Req, Resp any](ctx context.Context, c Conn, e *Endpoint[Req, Resp], req Req) (Resp, error) {
	var out Resp
	s := c.Server()
	err := c.call(ctx, e.Method, e.Path, req, &out, func(ctx context.Context) (any, error) {
		r, err := e.Do(ctx, s, req)
		out = r
		return r, err
	})
	return out, err
}

// All runs a list endpoint page after page and returns every item.
func All[Req any, PReq interface {
	*Req
	page() *PageRequest
}, T any](ctx context.Context, c Conn, e *Endpoint[Req, Page[T]], req Req) ([]T, error) {
	out := []T{}
	for {
		p, err := Call(ctx, c, e, req)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Items...)
		if p.Next == "" {
			return out, nil
		}
		PReq(&req).page().Cursor = p.Next
		PReq(&req).page().Limit = MaxLimit
	}
}

// Local runs operations on an opened tenant, as actor.
type Local struct {
	S     *server.Server
	Actor server.Actor
}

func (l Local) Server() *server.Server { return l.S }

func (l Local) call(ctx context.Context, _, _ string, _, _ any, do func(context.Context) (any, error)) error {
	_, err := do(server.WithActor(ctx, l.Actor))
	return err
}

// Remote runs operations on a server's admin API.
type Remote struct {
	base   *url.URL
	token  string
	client *http.Client
}

// Trust is how a remote client knows the server: the tenant CA's
// certificate (PEM), or its SHA-256 pin as enrollment tokens carry it.
type Trust struct {
	CAPEM []byte
	Pin   string // hex
}

func (t Trust) config(host string) (*tls.Config, error) {
	switch {
	case len(t.CAPEM) > 0 && t.Pin != "":
		return nil, errors.New("give --ca or --ca-pin, not both")
	case len(t.CAPEM) > 0:
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(t.CAPEM) {
			return nil, errors.New("--ca: no PEM certificate in the file")
		}
		return &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool}, nil
	case t.Pin != "":
		b, err := hex.DecodeString(strings.ReplaceAll(t.Pin, ":", ""))
		if err != nil || len(b) != sha256.Size {
			return nil, fmt.Errorf("--ca-pin %q: want the 64 hex digits of the tenant CA's SHA-256, as init prints it", t.Pin)
		}
		return tlspin.Config(host, [32]byte(b)), nil
	}
	return nil, errors.New("--server needs --ca FILE (the tenant CA, pki/ca.crt in the server's data directory) or --ca-pin SHA256 (as init prints it)")
}

// NewRemote is a client of the admin API at base (https://host:port),
// trusting only the tenant CA, authenticated by token.
func NewRemote(base, token string, trust Trust) (*Remote, error) {
	u, err := url.Parse(strings.TrimRight(base, "/"))
	if err != nil || u.Scheme != "https" || u.Host == "" || u.Path != "" {
		return nil, fmt.Errorf("--server %q: want https://HOST:PORT", base)
	}
	if token == "" {
		return nil, errors.New("remote mode needs an API token: set MAW_API_TOKEN or give --api-token-file (`admin token create` makes one)")
	}
	tc, err := trust.config(u.Hostname())
	if err != nil {
		return nil, err
	}
	tr := &http.Transport{
		TLSClientConfig:     tc,
		TLSHandshakeTimeout: 10 * time.Second,
		ForceAttemptHTTP2:   true,
	}
	return &Remote{base: u, token: token, client: &http.Client{Transport: tr, Timeout: 10 * time.Minute}}, nil
}

func (r *Remote) Server() *server.Server { return nil }

func (r *Remote) call(ctx context.Context, method, path string, req, resp any, _ func(context.Context) (any, error)) error {
	p, q, body, err := encodeRequest(method, path, req)
	if err != nil {
		return err
	}
	u := *r.base
	u.RawPath = Prefix + p // keeps escaped path parameters escaped
	if u.Path, err = url.PathUnescape(u.RawPath); err != nil {
		return err
	}
	u.RawQuery = q.Encode()
	hr, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		return err
	}
	hr.Header.Set("Authorization", "Bearer "+r.token)
	hr.Header.Set("Accept", "application/json")
	if body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	res, err := r.client.Do(hr)
	if err != nil {
		return fmt.Errorf("reach the server: %w", err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 256<<20))
	if err != nil {
		return fmt.Errorf("read the server's answer: %w", err)
	}
	if res.StatusCode != http.StatusOK {
		var e Error
		if json.Unmarshal(b, &e) != nil || e.Message == "" {
			return &APIError{Status: res.StatusCode, Code: "internal", Message: fmt.Sprintf("the server answered %s", res.Status)}
		}
		return &APIError{Status: res.StatusCode, Code: e.Code, Message: e.Message}
	}
	if err := json.Unmarshal(b, resp); err != nil {
		return fmt.Errorf("the server's answer is not the expected JSON: %w", err)
	}
	return nil
}
