package server

import (
	"errors"
	"strings"
	"testing"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/distribution"
	"github.com/mobileatwork/mobileatwork/server/store"
)

func TestAddProfile(t *testing.T) {
	s, _ := newTestServer(t)
	ctx := t.Context()
	p, err := s.AddProfile(ctx, " Wi-Fi ", "com.example.wifi", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(p.ID, "prf_") || p.Name != "Wi-Fi" {
		t.Errorf("profile = %+v", p)
	}
	tests := []struct{ name, n, id string }{
		{"no name", "", "com.example.vpn"},
		{"bad identifier", "VPN", "com example vpn"},
		{"no identifier", "VPN", ""},
		{"duplicate identifier, other case", "Wi-Fi 2", "COM.example.WIFI"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := s.AddProfile(ctx, tc.n, tc.id, nil); !errors.Is(err, ErrInvalid) {
				t.Errorf("AddProfile(%q, %q) = %v, want ErrInvalid", tc.n, tc.id, err)
			}
		})
	}
	if ps, _ := s.Profiles(ctx); len(ps) != 1 {
		t.Errorf("profiles = %+v, want the one valid profile", ps)
	}
}

func TestOnboardingPlan(t *testing.T) {
	s, _ := newTestServer(t)
	ctx := t.Context()
	d := store.Device{ID: "dev_1", Groups: []string{"lab"}}
	if err := s.Store.CreateDevice(ctx, store.Device{ID: "dev_1", Groups: []string{"lab"}, EnrolledAt: t0}); err != nil {
		t.Fatal(err)
	}
	lab := distribution.Audience{DeviceID: "dev_1", DeviceGroups: []string{"lab"}}
	other := distribution.Audience{DeviceID: "dev_2"}
	if p := s.onboardingPlan(ctx, nil, d, lab); p != nil {
		t.Errorf("disabled by default, got %+v", p)
	}
	if _, err := s.AddProfile(ctx, "Wi-Fi", "com.example.wifi", nil); err != nil {
		t.Fatal(err)
	}
	vpn, err := s.AddProfile(ctx, "VPN", "com.example.vpn", []string{"group:lab"})
	if err != nil {
		t.Fatal(err)
	}
	on := map[string]string{"onboarding.enabled": "true", "onboarding.landing_url": "https://example.com/hi"}
	p := s.onboardingPlan(ctx, on, d, lab)
	if p == nil || !p.Enabled || p.SetupTimeoutSeconds != 120 || p.WindowMinutes != 20 ||
		p.LandingURL != "https://example.com/hi" || len(p.Profiles) != 2 {
		t.Errorf("plan = %+v; want enabled with the documented defaults and both profiles", p)
	}
	// A profile distributed to the lab is not waited for elsewhere.
	if p := s.onboardingPlan(ctx, on, d, other); len(p.Profiles) != 1 || p.Profiles[0].Identifier != "com.example.wifi" {
		t.Errorf("plan of another device = %+v; want Wi-Fi only", p.Profiles)
	}
	// Withdrawn: no device waits for it.
	if _, _, err := s.DistributeProfile(ctx, vpn.ID, []string{"none"}, false); err != nil {
		t.Fatal(err)
	}
	if p := s.onboardingPlan(ctx, on, d, lab); len(p.Profiles) != 1 {
		t.Errorf("plan after withdrawing VPN = %+v", p.Profiles)
	}
	if _, _, err := s.DistributeProfile(ctx, "com.example.nope", []string{"all"}, false); !errors.Is(err, ErrInvalid) {
		t.Errorf("unknown profile = %v, want ErrInvalid", err)
	}
}

func TestCheckOnboardingReport(t *testing.T) {
	valid := func() protocol.OnboardingReport {
		return protocol.OnboardingReport{State: protocol.OnboardingRunning, Stages: []protocol.OnboardingStage{{
			Name: "Configurations", Status: protocol.ItemPending,
			Items: []protocol.OnboardingItem{{Name: "Wi-Fi", Kind: protocol.ItemKindProfile, Status: protocol.ItemPending}},
		}}, Progress: &protocol.OnboardingProgress{Outcome: protocol.OutcomeRunning, StagesTotal: 1, WaitingFor: []string{"Wi-Fi"}}}
	}
	tests := []struct {
		name   string
		change func(*protocol.OnboardingReport)
		ok     bool
	}{
		{"valid", func(*protocol.OnboardingReport) {}, true},
		{"unknown state", func(r *protocol.OnboardingReport) { r.State = "exploded" }, false},
		{"unknown item status", func(r *protocol.OnboardingReport) { r.Stages[0].Items[0].Status = "weird" }, false},
		{"long error", func(r *protocol.OnboardingReport) {
			r.Stages[0].Items[0].Error = strings.Repeat("x", protocol.MaxOnboardingString+1)
		}, false},
		{"too many items", func(r *protocol.OnboardingReport) {
			r.Background = make([]protocol.OnboardingItem, protocol.MaxOnboardingItems)
			for i := range r.Background {
				r.Background[i] = protocol.OnboardingItem{Name: "x", Status: protocol.ItemPending}
			}
		}, false},
		{"long log is cut, not refused", func(r *protocol.OnboardingReport) {
			r.Log = make([]protocol.OnboardingLogLine, protocol.MaxOnboardingLog+10)
		}, true},
		{"no progress, from an older agent", func(r *protocol.OnboardingReport) { r.Progress = nil }, true},
		{"done with failures", func(r *protocol.OnboardingReport) {
			r.State, r.Stages[0].Status, r.Stages[0].Items[0].Status = protocol.OnboardingDone, protocol.ItemFailed, protocol.ItemFailed
			r.Progress = &protocol.OnboardingProgress{Outcome: protocol.OutcomeDoneWithFailures, StagesSettled: 1, StagesTotal: 1,
				Failed: []protocol.OnboardingFailure{{Name: "Wi-Fi", Stage: "Configurations", Message: "Wi-Fi was not installed."}}}
		}, true},
		{"unknown outcome", func(r *protocol.OnboardingReport) { r.Progress.Outcome = "exploded" }, false},
		{"outcome of another state", func(r *protocol.OnboardingReport) { r.Progress.Outcome = protocol.OutcomeDone }, false},
		{"more stages done than there are", func(r *protocol.OnboardingReport) { r.Progress.StagesDone, r.Progress.StagesSettled = 2, 2 }, false},
		{"done but not settled", func(r *protocol.OnboardingReport) { r.Progress.StagesDone = 1 }, false},
		{"negative count", func(r *protocol.OnboardingReport) { r.Progress.StagesDone = -1 }, false},
		{"total not the stages", func(r *protocol.OnboardingReport) { r.Progress.StagesTotal = 4 }, false},
		{"too many names", func(r *protocol.OnboardingReport) {
			r.Progress.WaitingFor = make([]string, protocol.MaxOnboardingItems+1)
		}, false},
		{"long name waited for", func(r *protocol.OnboardingReport) {
			r.Progress.WaitingFor = []string{strings.Repeat("x", protocol.MaxOnboardingString+1)}
		}, false},
		{"long failure message", func(r *protocol.OnboardingReport) {
			r.Progress.Failed = []protocol.OnboardingFailure{{Name: "Wi-Fi", Message: strings.Repeat("x", protocol.MaxOnboardingString+1)}}
		}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := valid()
			tc.change(&r)
			err := checkOnboardingReport(&r)
			if (err == nil) != tc.ok {
				t.Fatalf("checkOnboardingReport = %v, want ok %v", err, tc.ok)
			}
			if len(r.Log) > protocol.MaxOnboardingLog {
				t.Errorf("log kept %d lines, want at most %d", len(r.Log), protocol.MaxOnboardingLog)
			}
		})
	}
}
