package protocol

import "time"

// PathOnboarding receives the device's onboarding progress (mutual TLS).
const PathOnboarding = "/v1/onboarding"

// Onboarding states: pending until a plan arrives within the window, then
// running, then one of the three final states.
const (
	OnboardingPending  = "pending"
	OnboardingRunning  = "running"
	OnboardingDone     = "done"
	OnboardingTimedOut = "timed_out"
	OnboardingSkipped  = "skipped"
)

// Statuses of an onboarding item or stage, as the progress page shows them.
const (
	ItemPending    = "pending"
	ItemInstalling = "installing"
	ItemInstalled  = "installed"
	ItemFailed     = "failed"
)

// ItemKindProfile is the kind of a configuration item; apps use AppKind....
const ItemKindProfile = "profile"

// Limits of one onboarding report. A plan holds tens of items; the bounds
// keep a broken agent from filling the server's database.
const (
	MaxOnboardingItems  = 500  // stage items plus background items
	MaxOnboardingLog    = 200  // log lines, the newest kept
	MaxOnboardingString = 1024 // one name, identifier, error or log message
)

// OnboardingItem is one configuration or app of the onboarding.
type OnboardingItem struct {
	ID     string `json:"id,omitempty"`
	Name   string `json:"name"`
	Kind   string `json:"kind"`   // ItemKindProfile or AppKind...
	Status string `json:"status"` // Item...
	Error  string `json:"error,omitempty"`
}

// OnboardingStage is one step the user sees: all configurations, or one
// priority app.
type OnboardingStage struct {
	Name   string           `json:"name"`
	Status string           `json:"status"` // Item...
	Items  []OnboardingItem `json:"items"`
}

// OnboardingLogLine is one line of the device's onboarding log.
type OnboardingLogLine struct {
	At      time.Time `json:"at"`
	Message string    `json:"message"`
}

// OnboardingReport is the device's onboarding progress: what
// `mobileatwork onboarding status --json` prints, what the progress page
// polls, and what the agent posts to PathOnboarding.
type OnboardingReport struct {
	DeviceID  string    `json:"device_id,omitempty"`
	State     string    `json:"state"` // Onboarding...
	StartedAt time.Time `json:"started_at,omitzero"`
	Deadline  time.Time `json:"deadline,omitzero"`
	EndedAt   time.Time `json:"ended_at,omitzero"`
	// Current is the item the device works on now, empty when none.
	Current    string            `json:"current,omitempty"`
	LandingURL string            `json:"landing_url,omitempty"`
	Stages     []OnboardingStage `json:"stages"`
	// Background are the apps that are not stages: they keep installing
	// after onboarding ends.
	Background []OnboardingItem    `json:"background"`
	Log        []OnboardingLogLine `json:"log,omitempty"`
}

// Final reports whether the state is one onboarding never leaves.
func (r OnboardingReport) Final() bool {
	switch r.State {
	case OnboardingDone, OnboardingTimedOut, OnboardingSkipped:
		return true
	}
	return false
}
