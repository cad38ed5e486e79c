// Package store defines what the reference tenant server keeps, one small
// interface per concern, composed into AllStorage. Backends live in
// subpackages (sqlite now); storetest holds the suite every backend passes.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/mobileatwork/mobileatwork/protocol"
)

// Sentinel errors, tested with errors.Is.
var (
	ErrNotFound     = errors.New("not found")
	ErrExists       = errors.New("already exists")
	ErrTokenUnknown = errors.New("enrollment token unknown")
	ErrTokenUsed    = errors.New("enrollment token already used")
	ErrTokenExpired = errors.New("enrollment token expired")
	ErrTokenRevoked = errors.New("enrollment token revoked")
	// ErrInUse refuses to delete what something else still uses.
	ErrInUse = errors.New("in use")
	// ErrBusy is a store that cannot take more work now (its write queue
	// is full, or the database stayed locked past a short wait). Nothing
	// was written; the caller may retry later.
	ErrBusy = errors.New("store busy")
)

// Token is a one-time (or N-time) enrollment token. Only the SHA-256 of its
// secret is stored, so a leaked database does not leak usable tokens.
type Token struct {
	Hash      []byte // sha256 of the secret
	User      string // email of the user the device will belong to, may be empty
	UsesLeft  int
	ExpiresAt time.Time
	CreatedAt time.Time
	RevokedAt time.Time // zero unless revoked
}

// ID names a token in listings and `token revoke` without revealing it: the
// first 8 bytes of its secret's hash.
func (t Token) ID() string { return TokenID(t.Hash) }

// TokenID is Token.ID for a hash.
func TokenID(hash []byte) string {
	const hexdigits = "0123456789abcdef"
	n := min(8, len(hash))
	b := make([]byte, 0, 4+2*n)
	b = append(b, "tok_"...)
	for _, c := range hash[:n] {
		b = append(b, hexdigits[c>>4], hexdigits[c&15])
	}
	return string(b)
}

// TokenStore keeps enrollment tokens.
type TokenStore interface {
	CreateToken(ctx context.Context, t Token) error
	// Tokens returns every token, the oldest first.
	Tokens(ctx context.Context) ([]Token, error)
	// RevokeToken makes the token with this ID unusable; ErrNotFound if
	// there is none. Revoking a revoked token changes nothing.
	RevokeToken(ctx context.Context, id string, at time.Time) (Token, error)
	// RedeemToken consumes one use of the token with this hash, atomically.
	// It fails with ErrTokenUnknown, ErrTokenUsed, ErrTokenExpired or
	// ErrTokenRevoked and then
	// changes nothing.
	RedeemToken(ctx context.Context, hash []byte, now time.Time) (Token, error)
	// CheckToken reports what RedeemToken would answer now, with the same
	// errors, and consumes nothing: enrollment checks the token before
	// anything costly, and redeems it only once the request is sound.
	CheckToken(ctx context.Context, hash []byte, now time.Time) (Token, error)
}

// Device is an enrolled device.
type Device struct {
	ID           string
	Facts        protocol.Facts
	User         string // email, from the token
	Groups       []string
	Capabilities []string
	AgentVersion string // as last reported
	CertSerial   string // hex serial of the device certificate
	// CertNotAfter is when that certificate expires; zero for devices
	// enrolled before it was recorded (see server.CertExpiry).
	CertNotAfter time.Time
	// PendingSerial is a renewed certificate issued but not yet used by
	// the device (empty: none), and PendingNotAfter its expiry. Both
	// certificates are accepted until the device's first request with the
	// new one, which retires the old serial.
	PendingSerial   string
	PendingNotAfter time.Time
	EnrolledAt      time.Time
	LastCheckin     time.Time // zero until the first check-in
	Left            bool      // the device uninstalled the agent
	// Retired is set when the administrator cut the device off: its
	// certificate is on the deny list.
	Retired *Retirement
	// RecentLog is the agent's latest warnings and errors, as it sent them
	// with its last check-in.
	RecentLog []protocol.LogLine
}

// Gone is a device the server serves no more: it left, or was retired.
func (d Device) Gone() bool { return d.Left || d.Retired != nil }

// Retirement is a device certificate put on the deny list by an
// administrator: every request made with it is refused.
type Retirement struct {
	CertSerial string // hex serial of the certificate denied
	At         time.Time
	By         string // who retired it, as the audit log names them
	Reason     string
}

// Checkin is what a device reports at a check-in.
type Checkin struct {
	Facts        protocol.Facts
	Capabilities []string
	RecentLog    []protocol.LogLine
	At           time.Time
}

// DeviceStore keeps enrolled devices.
type DeviceStore interface {
	CreateDevice(ctx context.Context, d Device) error
	Device(ctx context.Context, id string) (Device, error) // ErrNotFound
	Devices(ctx context.Context) ([]Device, error)         // ordered by EnrolledAt
	// RecordCheckin stores the facts, version and capabilities a device just
	// reported and returns the agent version it had reported before.
	RecordCheckin(ctx context.Context, id string, c Checkin) (prevVersion string, err error)
	// TouchCheckins records check-ins that reported nothing new: each
	// device's last check-in becomes the time given, unless a later one is
	// recorded. Ids of devices not enrolled are skipped.
	TouchCheckins(ctx context.Context, seen map[string]time.Time) error
	SetDeviceGroups(ctx context.Context, id string, groups []string) error
	MarkDeviceLeft(ctx context.Context, id string, at time.Time) error
	// RetireDevice puts the device's current certificate on the deny list
	// with r's time, actor and reason (r.CertSerial is ignored) and
	// returns the entry. ErrNotFound for an unknown device, ErrExists
	// when that certificate is denied already; both change nothing.
	RetireDevice(ctx context.Context, id string, r Retirement) (Retirement, error)
	// SetPendingCert records a renewed certificate of the device, replacing
	// one still pending; ErrNotFound for an unknown device.
	SetPendingCert(ctx context.Context, id, serial string, notAfter time.Time) error
	// ConfirmCert makes the pending certificate with this serial the
	// device's certificate, in one conditional update, and retires the
	// old one; ErrNotFound when the device has no such pending certificate.
	ConfirmCert(ctx context.Context, id, serial string) error
}

// InputDecl is a script input declared at `script add`.
type InputDecl struct {
	Label   string
	Name    string
	Default string
}

// Script is a stored script of the repository, with its current version.
// Each body is kept only as a sealed blob under the data directory; the
// store holds the keys and the digests.
type Script struct {
	ID          string
	Name        string
	Description string
	Inputs      []InputDecl
	Version     int // the current version, from 1
	// SHA256, Size, BlobSHA256 and BlobKey describe the current version.
	SHA256     string // of the body, hex
	Size       int64  // of the body
	BlobSHA256 string // of the sealed blob file, hex
	BlobKey    []byte // AES-256 key of the blob
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// ScriptVersion is one body a script has had. Versions are kept while the
// script exists: a device may still fetch the one it was last told about.
type ScriptVersion struct {
	ScriptID   string
	Version    int
	SHA256     string
	Size       int64
	BlobSHA256 string
	BlobKey    []byte
	CreatedAt  time.Time
}

// Current is the script's current version.
func (s Script) Current() ScriptVersion {
	return ScriptVersion{ScriptID: s.ID, Version: s.Version, SHA256: s.SHA256, Size: s.Size,
		BlobSHA256: s.BlobSHA256, BlobKey: s.BlobKey, CreatedAt: s.UpdatedAt}
}

// ScriptStore keeps scripts.
type ScriptStore interface {
	// CreateScript stores a script at version 1 (s.Version is ignored);
	// ErrExists for a known id.
	CreateScript(ctx context.Context, s Script) error
	Script(ctx context.Context, id string) (Script, error) // ErrNotFound
	Scripts(ctx context.Context) ([]Script, error)         // oldest first
	// UpdateScript replaces name, description and inputs. When s.Version
	// is one more than the stored version, s's digests and key become a new
	// version and every configuration that uses the script gets a new
	// version too, in the same transaction, so devices run the new body.
	// ErrNotFound for an unknown script.
	UpdateScript(ctx context.Context, s Script) error
	// ScriptVersion returns one version; ErrNotFound if unknown.
	ScriptVersion(ctx context.Context, id string, version int) (ScriptVersion, error)
	// DeleteScript removes a script and its versions; ErrInUse while a
	// configuration uses it, ErrNotFound if unknown.
	DeleteScript(ctx context.Context, id string) error
	// ReplaceScriptBlob gives one version of a script another sealed blob
	// of the same body (sealed again by another signer), without a new
	// version: nothing runs again for it. ErrNotFound if unknown.
	ReplaceScriptBlob(ctx context.Context, id string, version int, blobSHA256 string, key []byte) error
}

// StoredResult is a result as the server received it.
type StoredResult struct {
	protocol.Result
	ReceivedAt time.Time
}

// ResultFilter narrows Results; empty fields match everything.
type ResultFilter struct {
	DeviceID string
	ConfigID string // the configuration (assignment) the run belonged to
	ScriptID string
	Status   string
	Since    time.Time // received at or after
	Until    time.Time // received at or before
	// Limit keeps the newest Limit results (still returned oldest first);
	// 0 is no limit.
	Limit int
	// First keeps the oldest First results; 0 is no bound. It bounds a
	// page read from the oldest in the query itself: PostgreSQL sends a
	// query's every row, and stopping early still reads them all off the
	// connection. Not with Limit.
	First int
}

// ResultStore keeps run results, idempotently by run id.
type ResultStore interface {
	// PutResult stores r unless a result with the same run id exists; it
	// reports whether r was new. A second delivery is not an error.
	PutResult(ctx context.Context, r protocol.Result, receivedAt time.Time) (bool, error)
	Results(ctx context.Context, f ResultFilter) ([]StoredResult, error) // ordered by ReceivedAt
	// EachResult hands fn the results Results would return, in the same
	// order, one row at a time as they are read, so a listing of the whole
	// fleet's history holds one row in memory. An error from fn stops the
	// scan and is returned as is.
	EachResult(ctx context.Context, f ResultFilter, fn func(StoredResult) error) error
	// PurgeResults deletes at most max results received before before,
	// the oldest first, and reports how many it deleted. Callers loop until
	// fewer than max are deleted, so no one statement holds the database
	// long. max must be at least 1.
	PurgeResults(ctx context.Context, before time.Time, max int) (int, error)
	// LatestResults returns, for each of configIDs the device reported a
	// run of, its newest result (as Results with Limit 1 would), in one
	// look-up; configurations without a result are absent from the map.
	LatestResults(ctx context.Context, deviceID string, configIDs []string) (map[string]StoredResult, error)
}

// AllStorage is everything the server needs.
type AllStorage interface {
	TokenStore
	DeviceStore
	ScriptStore
	ConfigurationStore
	StatusStore
	UserStore
	ResultStore
	InventoryStore
	AppStore
	AppCatalogStore
	ProfileStore
	OnboardingStore
	DeliveryStore
	WakeStore
	CancelStore
	LinkStore
	TenantValueStore
	AccountStore
	APITokenStore
	SessionStore
	AuditStore
	Close() error
}
