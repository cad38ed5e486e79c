package store

import (
	"context"
	"time"

	"github.com/mobileatwork/mobileatwork/protocol"
)

// StoredOnboarding is the latest onboarding progress a device reported.
type StoredOnboarding struct {
	protocol.OnboardingReport
	ReceivedAt time.Time
}

// OnboardingStore keeps the latest onboarding progress of each device,
// with its bounded log: admins look at the device's onboarding, not at its
// history.
type OnboardingStore interface {
	// PutOnboarding replaces the device's progress; an unknown device is
	// ErrNotFound and nothing is stored.
	PutOnboarding(ctx context.Context, deviceID string, r protocol.OnboardingReport, receivedAt time.Time) error
	// Onboarding returns it, or ErrNotFound if the device never sent one.
	Onboarding(ctx context.Context, deviceID string) (StoredOnboarding, error)
}
