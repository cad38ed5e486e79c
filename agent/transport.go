package agent

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/protocol/tlspin"
)

// ErrPinMismatch is returned when the server's chain does not end at the CA
// pinned by the enrollment token.
var ErrPinMismatch = tlspin.ErrMismatch

// pinnedTLS trusts exactly the CA whose SHA-256 the token carries.
func pinnedTLS(serverName string, pin [32]byte) *tls.Config { return tlspin.Config(serverName, pin) }

// deviceTLS is the mutual TLS of every request after enrollment: the server
// must chain to the pinned tenant CA, and the device shows its certificate.
// Sessions are resumed from sessions (nil: never), so a check-in after the
// interval, when the connection is long closed, costs a resumption rather
// than a full handshake on both sides.
func deviceTLS(id *Identity, serverName string, sessions tls.ClientSessionCache) *tls.Config {
	roots := x509.NewCertPool()
	roots.AddCert(id.ca)
	return &tls.Config{
		MinVersion:         tls.VersionTLS12,
		ServerName:         serverName,
		RootCAs:            roots,
		ClientSessionCache: sessions,
		Certificates: []tls.Certificate{{
			Certificate: [][]byte{id.Certificate},
			PrivateKey:  id.key,
			Leaf:        id.cert,
		}},
	}
}

// jitterBackoff is exponential backoff with full jitter, so a fleet that lost
// its server does not come back in lockstep. A server's Retry-After is
// honoured up to max: one request must never hold the agent for the hour a
// misconfigured proxy may ask for; the check-in loop's own backoff spaces
// out what follows.
func jitterBackoff(min, max time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) {
		if d := retryablehttp.DefaultBackoff(min, max, attempt, resp); d > 0 {
			if d > max {
				d = max
			}
			return d
		}
	}
	ceil := min << attempt
	if ceil <= 0 || ceil > max {
		ceil = max
	}
	return min/2 + time.Duration(rand.Int64N(int64(ceil)))
}

func newHTTPClient(cfg *tls.Config, retries int) *http.Client {
	rc := retryablehttp.NewClient()
	rc.Logger = nil
	rc.RetryMax = retries
	rc.RetryWaitMin = 500 * time.Millisecond
	rc.RetryWaitMax = 10 * time.Second
	rc.Backoff = jitterBackoff
	rc.HTTPClient.Timeout = 60 * time.Second
	tr := &http.Transport{
		TLSClientConfig:     cfg,
		TLSHandshakeTimeout: 15 * time.Second,
		// One cycle (check-in, script downloads, result upload) reuses one
		// connection. Below the server's idle timeout, so the agent closes
		// an idle connection before the server can close it under a request.
		IdleConnTimeout:   90 * time.Second,
		ForceAttemptHTTP2: true,
	}
	rc.HTTPClient.Transport = tr
	// Errors are returned to the caller; do not turn 4xx into retries.
	rc.CheckRetry = retryablehttp.DefaultRetryPolicy
	// After the last retry of a 5xx, hand the answer over as it is, so the
	// error keeps the status and the server's message.
	rc.ErrorHandler = retryablehttp.PassthroughErrorHandler
	return &http.Client{Transport: idleCloser{&retryablehttp.RoundTripper{Client: rc}, tr}}
}

// idleCloser lets http.Client.CloseIdleConnections reach the pool below
// retryablehttp, which does not pass it on: a run that ends leaves no
// connection (and its goroutines) behind.
type idleCloser struct {
	*retryablehttp.RoundTripper
	pool *http.Transport
}

func (c idleCloser) CloseIdleConnections() { c.pool.CloseIdleConnections() }

func serverName(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return "", fmt.Errorf("server URL %q: want https://HOST[:PORT]", raw)
	}
	return u.Hostname(), nil
}

// ErrAnswerTooLarge is an answer over the limit the agent reads.
var ErrAnswerTooLarge = errors.New("answer too large")

// HTTPError is a non-2xx answer of the server.
type HTTPError struct {
	Status  int
	Message string
}

func (e *HTTPError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("server answered %d", e.Status)
	}
	return fmt.Sprintf("server answered %d: %s", e.Status, e.Message)
}

// errorBody bounds what is read of a refusal's body: one protocol.Error.
const errorBody = 4 << 10

// answerError is the HTTPError of a refused answer, with the message of its
// protocol.Error body when it has one.
func answerError(status int, body []byte) *HTTPError {
	var e protocol.Error
	json.Unmarshal(body, &e)
	return &HTTPError{Status: status, Message: e.Error}
}

// readAnswerError reads the start of a refused answer's body into its
// HTTPError.
func readAnswerError(resp *http.Response) *HTTPError {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, errorBody))
	return answerError(resp.StatusCode, b)
}

// do sends one request and returns the body, at most limit bytes.
func do(ctx context.Context, c *http.Client, method, u string, body any, limit int64) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return send(c, req, limit)
}

// send sends req and returns the body of a 2xx answer, at most limit bytes;
// any other answer becomes an *HTTPError carrying the server's message.
func send(c *http.Client, req *http.Request, limit int64) ([]byte, error) {
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read answer: %w", err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: answer larger than %d bytes", ErrAnswerTooLarge, limit)
	}
	if resp.StatusCode/100 != 2 {
		return nil, answerError(resp.StatusCode, b)
	}
	return b, nil
}
