package store

import (
	"context"
	"time"
)

// Profile is a configuration (profile) the onboarding waits for. MDM
// installs it; the agent only observes it by its PayloadIdentifier.
type Profile struct {
	ID         string
	Name       string
	Identifier string // PayloadIdentifier
	CreatedAt  time.Time
}

// ProfileStore keeps the configurations of the onboarding plan.
type ProfileStore interface {
	// CreateProfile stores p; an existing id or identifier is ErrExists.
	CreateProfile(ctx context.Context, p Profile) error
	Profiles(ctx context.Context) ([]Profile, error) // ordered by CreatedAt
}
