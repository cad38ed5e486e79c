package agent

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/mobileatwork/mobileatwork/protocol"
)

// ErrCheckinRefused is a check-in answer that failed verification.
var ErrCheckinRefused = errors.New("check-in response refused")

// Client speaks the device API as one enrolled device: mutual TLS with its
// certificate, the agent's retries and backoff, and the checks the agent
// makes on every answer. The agent talks through one, and so does the load
// generator, so that what a load run measures is what agents send.
type Client struct {
	id   *Identity
	http *http.Client
	// wake holds the wake request (wake.go): the connections and TLS
	// sessions of http, none of its retries, a timeout beyond the hold.
	wake *http.Client
	// Log hears of an unchanged answer for content this device does not
	// hold; nil says nothing.
	Log *zap.Logger
}

// NewClient speaks for id to id.ServerURL; a failed request is retried
// retries times. TLS sessions are resumed from sessions (nil: never).
func NewClient(id *Identity, retries int, sessions tls.ClientSessionCache) (*Client, error) {
	host, err := serverName(id.ServerURL)
	if err != nil {
		return nil, err
	}
	hc := newHTTPClient(deviceTLS(id, host, sessions), retries)
	return &Client{id: id, http: hc, wake: &http.Client{Transport: hc.Transport.(idleCloser).pool, Timeout: wakeTimeout}}, nil
}

func (c *Client) url(path string) string { return c.id.ServerURL + path }

// CloseIdleConnections closes the connections kept for the next request.
func (c *Client) CloseIdleConnections() { c.http.CloseIdleConnections() }

// Checkin sends req under a fresh nonce and returns the answer once it is
// verified: signed by the pinned signer, for this device and this nonce,
// and valid at now() when it arrived. With held (the payload of the last
// verified check-in), the request names its digest, and an answer that it
// is unchanged resolves to held; unchanged then says so. An unchanged
// answer for other content (protocol.ErrNotHeld) is never trusted: the
// check-in is made again without held, for the whole payload.
func (c *Client) Checkin(ctx context.Context, req protocol.CheckinRequest, held *protocol.CheckinPayload, now func() time.Time) (p protocol.CheckinPayload, unchanged bool, err error) {
	p, unchanged, err = c.checkin(ctx, req, held, now)
	if held != nil && errors.Is(err, protocol.ErrNotHeld) {
		if c.Log != nil {
			c.Log.Warn("the server answered unchanged for content this agent does not hold: asking for all of it", zap.Error(err))
		}
		p, unchanged, err = c.checkin(ctx, req, nil, now)
	}
	return p, unchanged, err
}

func (c *Client) checkin(ctx context.Context, req protocol.CheckinRequest, held *protocol.CheckinPayload, now func() time.Time) (p protocol.CheckinPayload, unchanged bool, err error) {
	req.Nonce = make([]byte, 32)
	if _, err := rand.Read(req.Nonce); err != nil {
		return p, false, err
	}
	req.ProtocolVersion, req.DeviceID = protocol.Version, c.id.DeviceID
	req.PayloadDigest = ""
	if held != nil {
		req.PayloadDigest = protocol.ContentDigest(*held)
	}
	body, err := do(ctx, c.http, "POST", c.url(protocol.PathCheckin), req, protocol.MaxResponseBody)
	if err != nil {
		return p, false, fmt.Errorf("check in with %s: %w", c.id.ServerURL, err)
	}
	answer, err := protocol.OpenCheckin(body, c.id.signing, c.id.DeviceID, req.Nonce, now())
	if err == nil {
		p, err = protocol.Resolve(answer, held)
	}
	if err != nil {
		return protocol.CheckinPayload{}, false, fmt.Errorf("%w: %w", ErrCheckinRefused, err)
	}
	return p, answer.Unchanged, nil
}

// FetchBlob downloads the sealed script of an assignment.
func (c *Client) FetchBlob(ctx context.Context, asg protocol.Assignment) ([]byte, error) {
	if len(asg.BlobURL) == 0 || asg.BlobURL[0] != '/' {
		return nil, fmt.Errorf("blob URL %q is not a path on the tenant server", asg.BlobURL)
	}
	return do(ctx, c.http, "GET", c.url(asg.BlobURL), nil, protocol.MaxBlobBody)
}

// OpenAssignment verifies and decrypts a fetched script with the pinned
// signer and the device key.
func (c *Client) OpenAssignment(asg protocol.Assignment, blob []byte) (protocol.Script, error) {
	return protocol.OpenAssignment(asg, blob, c.id.signing, c.id.cert, c.id.key)
}

// SendResults posts one batch of results. A refusal of the whole batch is
// an *HTTPError.
func (c *Client) SendResults(ctx context.Context, batch []protocol.Result) (protocol.ResultsAck, error) {
	var ack protocol.ResultsAck
	body, err := do(ctx, c.http, "POST", c.url(protocol.PathResults), protocol.ResultsRequest{
		DeviceID: c.id.DeviceID, Results: batch,
	}, protocol.MaxResponseBody)
	if err != nil {
		return ack, err
	}
	if err := json.Unmarshal(body, &ack); err != nil {
		return ack, fmt.Errorf("bad answer: %w", err)
	}
	return ack, nil
}

// SendInventory uploads an inventory report, gzip-compressed, and checks
// that the server acknowledged this content.
func (c *Client) SendInventory(ctx context.Context, rep protocol.InventoryReport) (protocol.InventoryAck, error) {
	var ack protocol.InventoryAck
	body, err := c.postGzip(ctx, protocol.PathInventory, rep, maxInventoryAnswer)
	if err != nil {
		return ack, err
	}
	if err := json.Unmarshal(body, &ack); err != nil {
		return ack, fmt.Errorf("bad answer: %w", err)
	}
	if ack.Hash != rep.Hash {
		return ack, fmt.Errorf("server acknowledged %q, sent %q", ack.Hash, rep.Hash)
	}
	return ack, nil
}

// postGzip posts v as gzip-compressed JSON and returns the answer, at most
// limit bytes. An inventory compresses about tenfold, which matters to a
// fleet checking in over hotel Wi-Fi.
func (c *Client) postGzip(ctx context.Context, path string, v any, limit int64) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	if len(raw) > protocol.MaxRequestBody {
		return nil, fmt.Errorf("request is %d bytes, more than the %d the server accepts", len(raw), protocol.MaxRequestBody)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(raw); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url(path), bytes.NewReader(buf.Bytes()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Encoding", "gzip")
	return send(c.http, req, limit)
}
