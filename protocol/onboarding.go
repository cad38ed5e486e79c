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

// Outcomes of an onboarding, as the device reads its state: a running or
// pending onboarding has the state's name; a finished one says how it
// ended, so that no view has to work it out from the items.
const (
	OutcomePending          = OnboardingPending
	OutcomeRunning          = OnboardingRunning
	OutcomeDone             = OnboardingDone
	OutcomeDoneWithFailures = "done_with_failures"
	OutcomeTimedOut         = OnboardingTimedOut
	OutcomeSkipped          = OnboardingSkipped
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
	// Current is the item the device installs now, empty when none: the
	// first of Progress.NowInstalling.
	Current    string            `json:"current,omitempty"`
	LandingURL string            `json:"landing_url,omitempty"`
	Stages     []OnboardingStage `json:"stages"`
	// Background are the apps that are not stages: they keep installing
	// after onboarding ends.
	Background []OnboardingItem    `json:"background"`
	Log        []OnboardingLogLine `json:"log,omitempty"`
	// Progress is the device's reading of the stages, which every view
	// shows as it is; nil in reports of older agents.
	Progress *OnboardingProgress `json:"progress,omitempty"`
}

// OnboardingProgress is what the stages amount to, computed once on the
// device so that the page, the terminal and the server say the same.
type OnboardingProgress struct {
	Outcome string `json:"outcome"` // Outcome...
	// StagesDone counts the stages whose every item is installed.
	StagesDone int `json:"stages_done"`
	// StagesSettled counts the stages onboarding no longer waits for:
	// each item installed, installing or failed.
	StagesSettled int `json:"stages_settled"`
	StagesTotal   int `json:"stages_total"`
	// NowInstalling names the apps the agent installs now.
	NowInstalling []string `json:"now_installing,omitempty"`
	// WaitingFor names the stage items that others install (profiles and
	// Apps & Books apps, by MDM) and that are not there yet: the agent only
	// watches for them.
	WaitingFor []string `json:"waiting_for,omitempty"`
	// Queued names the stage apps the agent installs after the current one.
	Queued []string            `json:"queued,omitempty"`
	Failed []OnboardingFailure `json:"failed,omitempty"`
}

// OnboardingFailure is an item that failed, in words for the user; the
// reason stays in the item's Error and the log, for the IT team.
type OnboardingFailure struct {
	Name    string `json:"name"`
	Stage   string `json:"stage,omitempty"` // empty for a background app
	Message string `json:"message"`
}

// Final reports whether the state is one onboarding never leaves.
func (r OnboardingReport) Final() bool {
	switch r.State {
	case OnboardingDone, OnboardingTimedOut, OnboardingSkipped:
		return true
	}
	return false
}
