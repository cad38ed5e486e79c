package store

import (
	"context"
	"time"

	"github.com/mobileatwork/mobileatwork/server/distribution"
)

// Profile is a configuration (profile) the onboarding waits for. MDM
// installs it; the agent only observes it by its PayloadIdentifier.
type Profile struct {
	ID         string
	Name       string
	Identifier string // PayloadIdentifier
	// Targets are the devices whose onboarding waits for it: those MDM
	// installs it on.
	Targets   []distribution.Target
	CreatedAt time.Time
}

// ProfileStore keeps the configurations of the onboarding plan.
type ProfileStore interface {
	// CreateProfile stores p; an existing id or identifier is ErrExists.
	CreateProfile(ctx context.Context, p Profile) error
	Profiles(ctx context.Context) ([]Profile, error) // ordered by CreatedAt
	// ProfilesFor returns, through a targets index, ordered by CreatedAt and
	// with all their targets, the profiles with a target that may reach the
	// audience: a superset of those distribution.Reaches accepts.
	ProfilesFor(ctx context.Context, a distribution.Audience) ([]Profile, error)
	// SetProfileTargets replaces a profile's distribution; ErrNotFound for
	// an unknown profile.
	SetProfileTargets(ctx context.Context, id string, targets []distribution.Target) error
}
