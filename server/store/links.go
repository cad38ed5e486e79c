package store

import (
	"context"
	"errors"
	"time"
)

// Refusals of a download link, tested with errors.Is.
var (
	ErrLinkUsed    = errors.New("download link used")
	ErrLinkExpired = errors.New("download link expired")
	ErrLinkRevoked = errors.New("download link revoked")
)

// The states of a download link, as listings show them.
const (
	LinkActive  = "active"
	LinkUsed    = "used"
	LinkExpired = "expired"
	LinkRevoked = "revoked"
)

// Link is a download link of an enrolling package. Only the SHA-256 of its
// secret is stored, as for enrollment tokens. The package is built at the
// first download and kept (by its SHA-256 in the tenant's files) for the
// downloads that follow.
type Link struct {
	ID             string
	Hash           []byte // sha256 of the secret
	User           string // email of the enrolled devices' user, may be empty
	Uses           int    // downloads allowed
	Downloads      int    // downloads served
	LastDownloadAt time.Time
	ExpiresAt      time.Time
	CreatedAt      time.Time
	RevokedAt      time.Time // zero unless revoked
	// The package, once built: zero values before.
	PackageSHA256 string
	PackageSize   int64
	TokenID       string // the enrollment token inside the package
	BuiltAt       time.Time
}

// State is the one rule for what a link allows at now: revoked wins, then
// used, then expired, as CountLinkDownload refuses.
func (l Link) State(now time.Time) string {
	switch {
	case !l.RevokedAt.IsZero():
		return LinkRevoked
	case l.Downloads >= l.Uses:
		return LinkUsed
	case !now.Before(l.ExpiresAt):
		return LinkExpired
	default:
		return LinkActive
	}
}

// Refusal is the error CountLinkDownload fails with for a link that
// allows no download at now: ErrLinkRevoked, ErrLinkUsed or
// ErrLinkExpired, as State decides; nil for an active link.
func (l Link) Refusal(now time.Time) error {
	switch l.State(now) {
	case LinkRevoked:
		return ErrLinkRevoked
	case LinkUsed:
		return ErrLinkUsed
	case LinkExpired:
		return ErrLinkExpired
	}
	return nil
}

// RefusedState is the state a refusal of CountLinkDownload stands for;
// "" for any other error.
func RefusedState(err error) string {
	for sentinel, state := range map[error]string{ErrLinkRevoked: LinkRevoked, ErrLinkUsed: LinkUsed, ErrLinkExpired: LinkExpired} {
		if errors.Is(err, sentinel) {
			return state
		}
	}
	return ""
}

// LinkStore keeps download links.
type LinkStore interface {
	// CreateLink stores a new link; ErrExists when its id or hash is taken.
	CreateLink(ctx context.Context, l Link) error
	// LinkByHash returns the link whose secret has this hash; ErrNotFound.
	LinkByHash(ctx context.Context, hash []byte) (Link, error)
	// Links returns every link, the oldest first.
	Links(ctx context.Context) ([]Link, error)
	// RevokeLink makes the link unusable; ErrNotFound if there is none. A
	// revoked link keeps its first revocation time.
	RevokeLink(ctx context.Context, id string, at time.Time) (Link, error)
	// SetLinkPackage records the package built for the link (PackageSHA256,
	// PackageSize, TokenID, BuiltAt of p) unless one is recorded already,
	// and returns the link as stored afterwards: a builder that lost the
	// race sees the other's package. ErrNotFound if there is no such link.
	SetLinkPackage(ctx context.Context, id string, p Link) (Link, error)
	// CountLinkDownload takes one of the link's uses at now, atomically,
	// and returns the link after it. It fails with ErrNotFound,
	// ErrLinkRevoked, ErrLinkUsed or ErrLinkExpired (in the order of
	// Link.State) and then changes nothing.
	CountLinkDownload(ctx context.Context, id string, now time.Time) (Link, error)
}

// TenantValueStore keeps the tenant's own settings (its public URLs) as
// keys and values.
type TenantValueStore interface {
	// TenantValues returns every value kept.
	TenantValues(ctx context.Context) (map[string]string, error)
	// SetTenantValues sets the given keys in one transaction; an empty
	// value removes its key.
	SetTenantValues(ctx context.Context, kv map[string]string) error
}
