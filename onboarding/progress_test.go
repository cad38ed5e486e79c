package onboarding

import (
	"reflect"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/mobileatwork/mobileatwork/protocol"
)

func profileItem(name, status string) item {
	return item{OnboardingItem: protocol.OnboardingItem{ID: "prf_" + name, Name: name, Kind: protocol.ItemKindProfile, Status: status}, Identifier: "com.example." + name}
}

func inHouseItem(name, status string) item {
	return item{OnboardingItem: protocol.OnboardingItem{ID: "app_" + name, Name: name, Kind: protocol.AppKindInHouse, Status: status}, PackageID: "com.example." + name, Package: pkg(name)}
}

func booksItem(name, status string) item {
	return item{OnboardingItem: protocol.OnboardingItem{ID: "app_" + name, Name: name, Kind: protocol.AppKindAppsAndBooks, Status: status}, BundleID: "com.example." + name}
}

// sampleStages is the sample plan's three stages with the given statuses:
// Wi-Fi, VPN, Example Tools (in-house), Slack (Apps & Books).
func sampleStages(wifi, vpn, tools, slack string) []stage {
	return []stage{
		{Name: ConfigurationsStage, Items: []item{profileItem("Wi-Fi", wifi), profileItem("VPN", vpn)}},
		{Name: "Example Tools", Items: []item{inHouseItem("Example Tools", tools)}},
		{Name: "Slack", Items: []item{booksItem("Slack", slack)}},
	}
}

const (
	pending    = protocol.ItemPending
	installing = protocol.ItemInstalling
	installed  = protocol.ItemInstalled
	failed     = protocol.ItemFailed
)

func TestProgress(t *testing.T) {
	tests := []struct {
		name       string
		state      string
		stages     []stage
		background []item
		want       protocol.OnboardingProgress
	}{
		{
			name: "pending", state: protocol.OnboardingPending,
			want: protocol.OnboardingProgress{Outcome: protocol.OutcomePending},
		},
		{
			// A started install settles its stage but is not a stage done,
			// and profiles are waited for, never "installing".
			name: "running with nothing installed", state: protocol.OnboardingRunning,
			stages: sampleStages(pending, pending, installing, pending),
			want: protocol.OnboardingProgress{
				Outcome: protocol.OutcomeRunning, StagesDone: 0, StagesSettled: 1, StagesTotal: 3,
				NowInstalling: []string{"Example Tools"}, WaitingFor: []string{"Wi-Fi", "VPN", "Slack"},
			},
		},
		{
			name: "running, profile awaited, app installed", state: protocol.OnboardingRunning,
			stages: sampleStages(installed, pending, installed, pending),
			want: protocol.OnboardingProgress{
				Outcome: protocol.OutcomeRunning, StagesDone: 1, StagesSettled: 1, StagesTotal: 3,
				WaitingFor: []string{"VPN", "Slack"},
			},
		},
		{
			name: "running, second in-house app queued", state: protocol.OnboardingRunning,
			stages: append(sampleStages(installed, installed, installing, installed),
				stage{Name: "Zoom", Items: []item{inHouseItem("Zoom", pending)}}),
			want: protocol.OnboardingProgress{
				Outcome: protocol.OutcomeRunning, StagesDone: 2, StagesSettled: 3, StagesTotal: 4,
				NowInstalling: []string{"Example Tools"}, Queued: []string{"Zoom"},
			},
		},
		{
			name: "done", state: protocol.OnboardingDone,
			stages:     sampleStages(installed, installed, installed, installed),
			background: []item{booksItem("Pages", pending), inHouseItem("Notes", installed)},
			want:       protocol.OnboardingProgress{Outcome: protocol.OutcomeDone, StagesDone: 3, StagesSettled: 3, StagesTotal: 3},
		},
		{
			name: "done while a stage app still installs", state: protocol.OnboardingDone,
			stages: sampleStages(installed, installed, installing, installed),
			want: protocol.OnboardingProgress{
				Outcome: protocol.OutcomeDone, StagesDone: 2, StagesSettled: 3, StagesTotal: 3,
				NowInstalling: []string{"Example Tools"},
			},
		},
		{
			name: "done with a failed stage", state: protocol.OnboardingDone,
			stages: sampleStages(installed, installed, failed, installed),
			want: protocol.OnboardingProgress{
				Outcome: protocol.OutcomeDoneWithFailures, StagesDone: 2, StagesSettled: 3, StagesTotal: 3,
				Failed: []protocol.OnboardingFailure{{Name: "Example Tools", Stage: "Example Tools", Message: "Example Tools could not be installed."}},
			},
		},
		{
			name: "done, then a background app failed", state: protocol.OnboardingDone,
			stages:     sampleStages(installed, installed, installed, installed),
			background: []item{inHouseItem("Notes", failed), inHouseItem("Zoom", installing), booksItem("Pages", pending)},
			want: protocol.OnboardingProgress{
				Outcome: protocol.OutcomeDoneWithFailures, StagesDone: 3, StagesSettled: 3, StagesTotal: 3,
				NowInstalling: []string{"Zoom"},
				Failed:        []protocol.OnboardingFailure{{Name: "Notes", Message: "Notes could not be installed."}},
			},
		},
		{
			// The report that said "settings are in place" with none there.
			name: "timed out with 0 of 3 profiles", state: protocol.OnboardingTimedOut,
			stages: []stage{
				{Name: ConfigurationsStage, Items: []item{profileItem("Wi-Fi", pending), profileItem("VPN", pending), profileItem("Mail", pending)}},
				{Name: "Example Tools", Items: []item{inHouseItem("Example Tools", installed)}},
			},
			want: protocol.OnboardingProgress{
				Outcome: protocol.OutcomeTimedOut, StagesDone: 1, StagesSettled: 1, StagesTotal: 2,
				WaitingFor: []string{"Wi-Fi", "VPN", "Mail"},
			},
		},
		{
			name: "timed out with a failure", state: protocol.OnboardingTimedOut,
			stages: sampleStages(installed, installed, failed, pending),
			want: protocol.OnboardingProgress{
				Outcome: protocol.OutcomeTimedOut, StagesDone: 1, StagesSettled: 2, StagesTotal: 3,
				WaitingFor: []string{"Slack"},
				Failed:     []protocol.OnboardingFailure{{Name: "Example Tools", Stage: "Example Tools", Message: "Example Tools could not be installed."}},
			},
		},
		{
			name: "skipped", state: protocol.OnboardingSkipped,
			want: protocol.OnboardingProgress{Outcome: protocol.OutcomeSkipped},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := state{Version: stateVersion, State: tc.state, Stages: tc.stages, Background: tc.background}
			if got := st.progress(); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("progress =\n %+v\nwant\n %+v", got, tc.want)
			}
			r := st.report("")
			if r.Progress == nil || !reflect.DeepEqual(*r.Progress, tc.want) {
				t.Fatalf("report carries progress %+v, want %+v", r.Progress, tc.want)
			}
			// Current names only what the agent installs.
			want := ""
			if len(tc.want.NowInstalling) > 0 {
				want = tc.want.NowInstalling[0]
			}
			if r.Current != want {
				t.Errorf("current = %q, want %q", r.Current, want)
			}
		})
	}
}

// The machine ends the onboarding on the progress model's settlement.
func TestMachineEndsOnSettlement(t *testing.T) {
	clock := clockwork.NewFakeClockAt(enrolled.Add(time.Minute))
	d := newFakeDevice()
	d.block = make(chan struct{})
	d.profiles = map[string]bool{"com.example.wifi": true, "com.example.vpn": true}
	d.bundles["com.tinyspeck.slackmacgap"] = "/Applications/Slack.app"
	m := newMachine(t, t.TempDir(), clock, d)
	plan, apps := samplePlan()
	m.Update(t.Context(), plan, apps)
	m.Tick(t.Context())
	m.Tick(t.Context())
	r := m.Report()
	// Example Tools is installing: settled, not done; onboarding ends.
	if r.State != protocol.OnboardingDone || r.Progress.Outcome != protocol.OutcomeDone ||
		r.Progress.StagesDone != 2 || r.Progress.StagesSettled != 3 || r.Current != "Example Tools" {
		t.Errorf("state %s, current %q, progress %+v", r.State, r.Current, r.Progress)
	}
	close(d.block)
	m.Wait()
}
