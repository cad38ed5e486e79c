// Package store defines what the reference tenant server keeps, one small
// interface per concern, composed into AllStorage. Backends live in
// subpackages (sqlite now); storetest holds the suite every backend passes.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/protocol/schedule"
)

// Sentinel errors, tested with errors.Is.
var (
	ErrNotFound     = errors.New("not found")
	ErrExists       = errors.New("already exists")
	ErrTokenUnknown = errors.New("enrollment token unknown")
	ErrTokenUsed    = errors.New("enrollment token already used")
	ErrTokenExpired = errors.New("enrollment token expired")
)

// Token is a one-time (or N-time) enrollment token. Only the SHA-256 of its
// secret is stored, so a leaked database does not leak usable tokens.
type Token struct {
	Hash      []byte // sha256 of the secret
	User      string // email of the user the device will belong to, may be empty
	UsesLeft  int
	ExpiresAt time.Time
	CreatedAt time.Time
}

// TokenStore keeps enrollment tokens.
type TokenStore interface {
	CreateToken(ctx context.Context, t Token) error
	// RedeemToken consumes one use of the token with this hash, atomically.
	// It fails with ErrTokenUnknown, ErrTokenUsed or ErrTokenExpired and then
	// changes nothing.
	RedeemToken(ctx context.Context, hash []byte, now time.Time) (Token, error)
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
	EnrolledAt   time.Time
	LastCheckin  time.Time // zero until the first check-in
	Left         bool      // the device uninstalled the agent
}

// DeviceStore keeps enrolled devices.
type DeviceStore interface {
	CreateDevice(ctx context.Context, d Device) error
	Device(ctx context.Context, id string) (Device, error) // ErrNotFound
	Devices(ctx context.Context) ([]Device, error)         // ordered by EnrolledAt
	// RecordCheckin stores the facts, version and capabilities a device just
	// reported and returns the agent version it had reported before.
	RecordCheckin(ctx context.Context, id string, facts protocol.Facts, caps []string, at time.Time) (prevVersion string, err error)
	SetDeviceGroups(ctx context.Context, id string, groups []string) error
	MarkDeviceLeft(ctx context.Context, id string, at time.Time) error
}

// InputDecl is a script input declared at `script add`.
type InputDecl struct {
	Label   string
	Name    string
	Default string
}

// Script is a stored script. Its body is kept only as the sealed blob under
// the data directory; the store holds the key and the digests.
type Script struct {
	ID         string
	Name       string
	SHA256     string // of the body, hex
	Size       int64  // of the body
	BlobSHA256 string // of the sealed blob file, hex
	BlobKey    []byte // AES-256 key of the blob
	Inputs     []InputDecl
	CreatedAt  time.Time
}

// ScriptStore keeps scripts.
type ScriptStore interface {
	CreateScript(ctx context.Context, s Script) error
	Script(ctx context.Context, id string) (Script, error) // ErrNotFound
	Scripts(ctx context.Context) ([]Script, error)
}

// Target kinds of an assignment.
const (
	TargetAll    = "all"
	TargetDevice = "device"
	TargetGroup  = "group"
	TargetUser   = "user"
)

// Assignment distributes a script to a target.
type Assignment struct {
	ID       string
	ScriptID string
	Target   string // TargetAll, TargetDevice, ...
	TargetID string // device id, group name or user email; empty for all
	Schedule schedule.Spec
	// Inputs overrides the script's declared defaults, by input name. Values
	// may hold {$variable} placeholders resolved per device.
	Inputs    map[string]string
	RunAs     string
	Version   int
	CreatedAt time.Time
}

// AssignmentStore keeps assignments.
type AssignmentStore interface {
	CreateAssignment(ctx context.Context, a Assignment) error
	Assignment(ctx context.Context, id string) (Assignment, error) // ErrNotFound
	Assignments(ctx context.Context) ([]Assignment, error)         // ordered by CreatedAt
}

// StoredResult is a result as the server received it.
type StoredResult struct {
	protocol.Result
	ReceivedAt time.Time
}

// ResultFilter narrows Results; empty fields match everything.
type ResultFilter struct {
	DeviceID string
	ScriptID string
}

// ResultStore keeps run results, idempotently by run id.
type ResultStore interface {
	// PutResult stores r unless a result with the same run id exists; it
	// reports whether r was new. A second delivery is not an error.
	PutResult(ctx context.Context, r protocol.Result, receivedAt time.Time) (bool, error)
	Results(ctx context.Context, f ResultFilter) ([]StoredResult, error) // ordered by ReceivedAt
}

// ConfigStore keeps the tenant configuration as validated key/value pairs.
type ConfigStore interface {
	Config(ctx context.Context) (map[string]string, error)
	// SetConfig writes all pairs in one transaction.
	SetConfig(ctx context.Context, kv map[string]string) error
}

// AllStorage is everything the server needs.
type AllStorage interface {
	TokenStore
	DeviceStore
	ScriptStore
	AssignmentStore
	ResultStore
	ConfigStore
	InventoryStore
	AppStore
	AppCatalogStore
	ProfileStore
	OnboardingStore
	Close() error
}
