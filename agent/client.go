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
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/mobileatwork/mobileatwork/agent/retiredsigners"
	"github.com/mobileatwork/mobileatwork/protocol"
)

// ErrCheckinRefused is a check-in answer that failed verification.
var ErrCheckinRefused = errors.New("check-in response refused")

// Client speaks the device API as one enrolled device: mutual TLS with its
// certificate, the agent's retries and backoff, and the checks the agent
// makes on every answer. The agent talks through one, and so does the load
// generator, so that what a load run measures is what agents send.
type Client struct {
	retries  int
	sessions tls.ClientSessionCache
	// trusted spares re-verifying the chain of a signer already verified.
	trusted protocol.TrustCache

	// cur is the identity the client speaks as, with its connections:
	// renewal switches it (use) without stopping what holds the client.
	cur atomic.Pointer[conns]
	// others are identities the client knew besides cur: a renewed one
	// not yet confirmed, or the one renewal replaced. OpenAssignment
	// opens with them what was sealed to their certificate.
	mu      sync.Mutex
	others  []*Identity
	retired []*conns // connections of earlier identities, closed with the client's
	// Log hears of an unchanged answer for content this device does not
	// hold; nil says nothing.
	Log *zap.Logger
	// Now is the time signing certificates are checked at; nil is
	// time.Now.
	Now func() time.Time
	// Retired are the signing certificates the tenant retired, refused
	// whatever their chain; verified check-in answers add to it. nil
	// neither refuses nor keeps any.
	Retired *retiredsigners.Set
}

// signers is the device's trust in the tenant's signers: by chain to the
// pinned CA and the signing policy, or the signing certificate received at
// enrollment when it predates the policy; never one the tenant retired.
// Everything the client verifies (answers, key envelopes, script blobs)
// goes through it.
func (c *Client) signers(id *Identity) protocol.Signers {
	ch := protocol.Chain{CA: id.ca, Pinned: id.signing, Now: c.Now, Cache: &c.trusted}
	if c.Retired != nil {
		ch.Retired = c.Retired.Has
	}
	return ch
}

// keepRetired adds the retired signers a verified answer lists. Failing to
// keep them does not refuse the answer: they are refused until the agent
// stops, and the next answer lists them again.
func (c *Client) keepRetired(fps []string) {
	if c.Retired == nil || len(fps) == 0 {
		return
	}
	n, err := c.Retired.Add(fps)
	if c.Log == nil {
		return
	}
	if err != nil {
		c.Log.Warn("the retired signing certificates the server listed could not be kept", zap.Error(err))
	} else if n > 0 {
		c.Log.Info("the tenant retired signing certificates: refusing what they sign", zap.Int("new", n), zap.Int("retired", c.Retired.Len()))
	}
}

// conns are the connections of one identity: each certificate has its own
// pool and TLS sessions, since a connection or a resumed session keeps the
// certificate it was made with.
type conns struct {
	id   *Identity
	http *http.Client
	// wake holds the wake request (wake.go): the connections and TLS
	// sessions of http, none of its retries, a timeout beyond the hold.
	wake *http.Client
	// download fetches packages (download.go): the same connections,
	// neither retries nor an overall timeout; DownloadAsset resumes and
	// bounds a stall itself.
	download *http.Client
}

// NewClient speaks for id to id.ServerURL; a failed request is retried
// retries times. TLS sessions are resumed from sessions (nil: never).
func NewClient(id *Identity, retries int, sessions tls.ClientSessionCache) (*Client, error) {
	c := &Client{retries: retries, sessions: sessions}
	if err := c.use(id); err != nil {
		return nil, err
	}
	return c, nil
}

// use makes the client speak as id from its next request on. Requests in
// flight finish on the connections they have.
func (c *Client) use(id *Identity) error {
	host, err := serverName(id.ServerURL)
	if err != nil {
		return err
	}
	var sessions tls.ClientSessionCache
	if c.sessions != nil {
		sessions = certSessions{c.sessions, id}
	}
	hc := newHTTPClient(deviceTLS(id, host, sessions), c.retries)
	pool := hc.Transport.(idleCloser).pool
	old := c.cur.Swap(&conns{id: id, http: hc, wake: &http.Client{Transport: pool, Timeout: wakeTimeout}, download: &http.Client{Transport: pool}})
	if old != nil {
		old.http.CloseIdleConnections()
		c.mu.Lock()
		c.retired = append(c.retired, old)
		c.mu.Unlock()
	}
	return nil
}

// remember keeps id for OpenAssignment besides the current identity.
func (c *Client) remember(id *Identity) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, o := range c.others {
		if bytes.Equal(o.Certificate, id.Certificate) {
			return
		}
	}
	c.others = append(c.others, id)
}

// identity is the identity the client speaks as.
func (c *Client) identity() *Identity { return c.cur.Load().id }

// httpClient is the current identity's HTTP client.
func (c *Client) httpClient() *http.Client { return c.cur.Load().http }

// downloadClient is the current identity's client for package downloads.
func (c *Client) downloadClient() *http.Client { return c.cur.Load().download }

// certSessions keeps the TLS sessions of one device certificate apart from
// those of another in one cache: a resumed session speaks with the
// certificate of the handshake that made it, so after a renewal it would
// still present the old one.
type certSessions struct {
	tls.ClientSessionCache
	id *Identity
}

func (s certSessions) key(k string) string { return k + "|" + s.id.cert.SerialNumber.Text(16) }

func (s certSessions) Get(k string) (*tls.ClientSessionState, bool) {
	return s.ClientSessionCache.Get(s.key(k))
}

func (s certSessions) Put(k string, cs *tls.ClientSessionState) {
	s.ClientSessionCache.Put(s.key(k), cs)
}

func (c *Client) url(path string) string { return c.identity().ServerURL + path }

// CloseIdleConnections closes the connections kept for the next request.
func (c *Client) CloseIdleConnections() {
	c.httpClient().CloseIdleConnections()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range c.retired {
		r.http.CloseIdleConnections()
	}
}

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
	cur := c.cur.Load()
	req.ProtocolVersion, req.DeviceID = protocol.Version, cur.id.DeviceID
	req.PayloadDigest = ""
	if held != nil {
		req.PayloadDigest = protocol.ContentDigest(*held)
	}
	body, err := do(ctx, cur.http, "POST", cur.id.ServerURL+protocol.PathCheckin, req, protocol.MaxResponseBody)
	if err != nil {
		return p, false, fmt.Errorf("check in with %s: %w", cur.id.ServerURL, err)
	}
	answer, err := protocol.OpenCheckin(body, c.signers(cur.id), cur.id.DeviceID, req.Nonce, now())
	if err == nil {
		p, err = protocol.ResolveHeld(answer, held, req.PayloadDigest)
	}
	if err != nil {
		return protocol.CheckinPayload{}, false, fmt.Errorf("%w: %w", ErrCheckinRefused, err)
	}
	c.keepRetired(p.RetiredSigners)
	return p, answer.Unchanged, nil
}

// FetchBlob downloads the sealed script of an assignment.
func (c *Client) FetchBlob(ctx context.Context, asg protocol.Assignment) ([]byte, error) {
	if len(asg.BlobURL) == 0 || asg.BlobURL[0] != '/' {
		return nil, fmt.Errorf("blob URL %q is not a path on the tenant server", asg.BlobURL)
	}
	return do(ctx, c.httpClient(), "GET", c.url(asg.BlobURL), nil, protocol.MaxBlobBody)
}

// OpenAssignment verifies and decrypts a fetched script with the pinned
// signer and the device key. A key envelope sealed to another certificate
// of this device (the payload came before or during a renewal) opens with
// that certificate's key.
func (c *Client) OpenAssignment(asg protocol.Assignment, blob []byte) (protocol.Script, error) {
	id := c.identity()
	sc, err := protocol.OpenAssignment(asg, blob, c.signers(id), id.cert, id.key)
	if !errors.Is(err, protocol.ErrWrongDevice) {
		return sc, err
	}
	c.mu.Lock()
	others := slices.Clone(c.others)
	c.mu.Unlock()
	for _, o := range others {
		if o.DeviceID != id.DeviceID {
			continue
		}
		if sc, oerr := protocol.OpenAssignment(asg, blob, c.signers(id), o.cert, o.key); !errors.Is(oerr, protocol.ErrWrongDevice) {
			return sc, oerr
		}
	}
	return sc, err
}

// SendResults posts one batch of results. A refusal of the whole batch is
// an *HTTPError.
func (c *Client) SendResults(ctx context.Context, batch []protocol.Result) (protocol.ResultsAck, error) {
	var ack protocol.ResultsAck
	body, err := do(ctx, c.httpClient(), "POST", c.url(protocol.PathResults), protocol.ResultsRequest{
		DeviceID: c.identity().DeviceID, Results: batch,
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
	return send(c.httpClient(), req, limit)
}
