package main

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/protocol"
)

func TestPrintOnboarding(t *testing.T) {
	now := time.Date(2026, 11, 27, 9, 1, 0, 0, time.UTC)
	stage := func(name, status string, items ...protocol.OnboardingItem) protocol.OnboardingStage {
		return protocol.OnboardingStage{Name: name, Status: status, Items: items}
	}
	it := func(name, kind, status, errText string) protocol.OnboardingItem {
		return protocol.OnboardingItem{Name: name, Kind: kind, Status: status, Error: errText}
	}
	tests := []struct {
		name string
		r    protocol.OnboardingReport
		want []string // lines, in order
		not  []string
	}{
		{
			// Nothing is installed: no stage is done, though an install
			// has started; profiles are awaited, not installing.
			name: "running with nothing installed",
			r: protocol.OnboardingReport{
				State: protocol.OnboardingRunning, Deadline: now.Add(90 * time.Second), Current: "Example Tools",
				Stages: []protocol.OnboardingStage{
					stage("Configurations", protocol.ItemPending,
						it("Wi-Fi", protocol.ItemKindProfile, protocol.ItemPending, ""), it("VPN", protocol.ItemKindProfile, protocol.ItemPending, "")),
					stage("Example Tools", protocol.ItemInstalling, it("Example Tools", protocol.AppKindInHouse, protocol.ItemInstalling, "")),
					stage("Slack", protocol.ItemPending, it("Slack", protocol.AppKindAppsAndBooks, protocol.ItemPending, "")),
				},
				Progress: &protocol.OnboardingProgress{
					Outcome: protocol.OutcomeRunning, StagesSettled: 1, StagesTotal: 3,
					NowInstalling: []string{"Example Tools"}, WaitingFor: []string{"Wi-Fi", "VPN", "Slack"},
				},
			},
			want: []string{
				"onboarding: running",
				"[------------------------------] 0/3 stages done, 1m30s left",
				"installing:  Example Tools",
				"waiting for: Wi-Fi, VPN, Slack",
				"1. Configurations                           pending",
			},
			not: []string{"outcome:", "installing:  Wi-Fi", "failed:"},
		},
		{
			name: "done with a failed stage",
			r: protocol.OnboardingReport{
				State: protocol.OnboardingDone,
				Stages: []protocol.OnboardingStage{
					stage("Configurations", protocol.ItemInstalled, it("Wi-Fi", protocol.ItemKindProfile, protocol.ItemInstalled, "")),
					stage("Example Tools", protocol.ItemFailed, it("Example Tools", protocol.AppKindInHouse, protocol.ItemFailed, "download Example Tools: SHA-256 mismatch")),
				},
				Progress: &protocol.OnboardingProgress{
					Outcome: protocol.OutcomeDoneWithFailures, StagesDone: 1, StagesSettled: 2, StagesTotal: 2,
					Failed: []protocol.OnboardingFailure{{Name: "Example Tools", Stage: "Example Tools", Message: "Example Tools could not be installed."}},
				},
			},
			want: []string{
				"onboarding: done",
				"outcome: done, with failures: the IT team sees the reasons in the device's log",
				"[###############---------------] 1/2 stages done",
				"failed:      Example Tools could not be installed.",
				"2. Example Tools                            failed",
				"     download Example Tools: SHA-256 mismatch",
			},
			not: []string{"left", "setup is complete"},
		},
		{
			name: "timed out with no profile",
			r: protocol.OnboardingReport{
				State: protocol.OnboardingTimedOut,
				Stages: []protocol.OnboardingStage{
					stage("Configurations", protocol.ItemPending, it("Wi-Fi", protocol.ItemKindProfile, protocol.ItemPending, ""),
						it("VPN", protocol.ItemKindProfile, protocol.ItemPending, ""), it("Mail", protocol.ItemKindProfile, protocol.ItemPending, "")),
				},
				Background: []protocol.OnboardingItem{it("Pages", protocol.AppKindAppsAndBooks, protocol.ItemPending, "")},
				Progress: &protocol.OnboardingProgress{
					Outcome: protocol.OutcomeTimedOut, StagesTotal: 1, WaitingFor: []string{"Wi-Fi", "VPN", "Mail"},
				},
			},
			want: []string{
				"onboarding: timed_out",
				"outcome: timed out: what is left keeps installing in the background",
				"[------------------------------] 0/1 stages done",
				"waiting for: Wi-Fi, VPN, Mail",
				"     - Wi-Fi                                 pending",
				"in the background:",
			},
		},
		{
			name: "done",
			r: protocol.OnboardingReport{
				State:    protocol.OnboardingDone,
				Stages:   []protocol.OnboardingStage{stage("Slack", protocol.ItemInstalled, it("Slack", protocol.AppKindAppsAndBooks, protocol.ItemInstalled, ""))},
				Progress: &protocol.OnboardingProgress{Outcome: protocol.OutcomeDone, StagesDone: 1, StagesSettled: 1, StagesTotal: 1},
			},
			want: []string{"onboarding: done", "outcome: done: setup is complete", "[##############################] 1/1 stages done"},
			not:  []string{"waiting for:", "installing:", "failed:"},
		},
		{
			name: "skipped",
			r: protocol.OnboardingReport{State: protocol.OnboardingSkipped, Stages: []protocol.OnboardingStage{},
				Progress: &protocol.OnboardingProgress{Outcome: protocol.OutcomeSkipped}},
			want: []string{"onboarding: skipped", "outcome: skipped: nothing to set up on this Mac", "[------------------------------] 0/0 stages done"},
		},
		{
			// A state file read by an older agent build has no progress:
			// the view still draws, and counts nothing it cannot know.
			name: "no progress",
			r: protocol.OnboardingReport{State: protocol.OnboardingRunning,
				Stages: []protocol.OnboardingStage{stage("Slack", protocol.ItemInstalling, it("Slack", protocol.AppKindAppsAndBooks, protocol.ItemInstalling, ""))}},
			want: []string{"onboarding: running", "[------------------------------] 0/1 stages done"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			printOnboarding(&b, tc.r, now)
			out := b.String()
			lines := strings.Split(out, "\n")
			for _, w := range tc.want {
				i := slices.Index(lines, w)
				if i < 0 {
					t.Fatalf("output lacks the line %q after the previous one:\n%s", w, out)
				}
				lines = lines[i+1:]
			}
			for _, n := range tc.not {
				if strings.Contains(out, n) {
					t.Errorf("output has %q:\n%s", n, out)
				}
			}
		})
	}
}
