package jsonview

import (
	"time"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// OnboardingDetail is a device's onboarding as it reported it last. Its
// keys are in alphabetical order, as `onboarding --json` has always printed
// them; instants not reached are null.
type OnboardingDetail struct {
	Background []protocol.OnboardingItem    `json:"background"`
	Current    string                       `json:"current"`
	Deadline   *time.Time                   `json:"deadline"`
	DeviceID   string                       `json:"device_id"`
	EndedAt    *time.Time                   `json:"ended_at"`
	LandingURL string                       `json:"landing_url"`
	Log        []protocol.OnboardingLogLine `json:"log"`
	Progress   *protocol.OnboardingProgress `json:"progress"`
	ReceivedAt time.Time                    `json:"received_at"`
	Stages     []protocol.OnboardingStage   `json:"stages"`
	StartedAt  *time.Time                   `json:"started_at"`
	State      string                       `json:"state"`
}

// NewOnboardingDetail shapes a stored onboarding report.
func NewOnboardingDetail(o store.StoredOnboarding) OnboardingDetail {
	at := func(t time.Time) *time.Time {
		if t.IsZero() {
			return nil
		}
		return &t
	}
	return OnboardingDetail{
		Background: nonNil(o.Background), Current: o.Current, Deadline: at(o.Deadline), DeviceID: o.DeviceID,
		EndedAt: at(o.EndedAt), LandingURL: o.LandingURL, Log: nonNil(o.Log), Progress: o.Progress,
		ReceivedAt: o.ReceivedAt, Stages: nonNil(o.Stages), StartedAt: at(o.StartedAt), State: o.State,
	}
}

// DeviceGroup is a device group with its devices.
type DeviceGroup struct {
	Name    string   `json:"name"`
	Devices []string `json:"devices"`
}
