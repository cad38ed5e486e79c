package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/jsonview"
	"github.com/mobileatwork/mobileatwork/server/store"
)

func TestPrintOnboardingShowsTheDevicesOutcome(t *testing.T) {
	at := time.Date(2026, 11, 27, 9, 5, 0, 0, time.UTC)
	report := protocol.OnboardingReport{
		DeviceID: "dev_1", State: protocol.OnboardingTimedOut, EndedAt: at,
		Stages: []protocol.OnboardingStage{
			{Name: "Configurations", Status: protocol.ItemPending, Items: []protocol.OnboardingItem{
				{Name: "Wi-Fi", Kind: protocol.ItemKindProfile, Status: protocol.ItemPending},
			}},
			{Name: "Example Tools", Status: protocol.ItemFailed, Items: []protocol.OnboardingItem{
				{Name: "Example Tools", Kind: protocol.AppKindInHouse, Status: protocol.ItemFailed, Error: "download: SHA-256 mismatch"},
			}},
		},
		Progress: &protocol.OnboardingProgress{
			Outcome: protocol.OutcomeTimedOut, StagesSettled: 1, StagesTotal: 2, WaitingFor: []string{"Wi-Fi"},
			Failed: []protocol.OnboardingFailure{{Name: "Example Tools", Stage: "Example Tools", Message: "Example Tools could not be installed."}},
		},
	}
	run := func(r protocol.OnboardingReport) string {
		t.Helper()
		var b bytes.Buffer
		cmd := &cobra.Command{}
		cmd.SetOut(&b)
		if err := printOnboarding(cmd, jsonview.NewOnboardingDetail(store.StoredOnboarding{OnboardingReport: r, ReceivedAt: at})); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	out := run(report)
	for _, want := range []string{
		"state:      timed_out\n",
		"outcome:    timed_out\n",
		"progress:   0 of 2 stages done, 1 settled\n",
		"awaiting:   Wi-Fi\n",
		"failed:     Example Tools could not be installed.\n",
		"download: SHA-256 mismatch",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	old := report
	old.Progress, old.Current = nil, "Wi-Fi"
	if out := run(old); !strings.Contains(out, "outcome:    - (not reported by this agent version)\ncurrent:    Wi-Fi\n") {
		t.Errorf("report of an older agent:\n%s", out)
	}

	b, err := json.Marshal(jsonview.NewOnboardingDetail(store.StoredOnboarding{OnboardingReport: report, ReceivedAt: at}))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Progress protocol.OnboardingProgress `json:"progress"`
	}
	if err := json.Unmarshal(b, &doc); err != nil || doc.Progress.Outcome != protocol.OutcomeTimedOut || len(doc.Progress.Failed) != 1 {
		t.Errorf("--json progress = %+v (%v): %s", doc.Progress, err, b)
	}
}
