package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/onboarding"
	"github.com/mobileatwork/mobileatwork/protocol"
)

// Items of an onboarding state file, as the machine stores them.
func obProfile(name, status string) map[string]any {
	return map[string]any{"id": "prf_" + name, "name": name, "kind": protocol.ItemKindProfile, "status": status, "identifier": "com.example." + name}
}

func obInHouse(name, status string) map[string]any {
	return map[string]any{"id": "app_" + name, "name": name, "kind": protocol.AppKindInHouse, "status": status,
		"package_id": "com.example." + name, "package": map[string]any{"url": "/v1/assets/" + name, "sha256": strings.Repeat("a", 64), "size": 10}}
}

func obBooks(name, status string) map[string]any {
	return map[string]any{"id": "app_" + name, "name": name, "kind": protocol.AppKindAppsAndBooks, "status": status, "bundle_id": "com.example." + name}
}

func obPackager(name, status string) map[string]any {
	return map[string]any{"id": "app_" + name, "name": name, "kind": protocol.AppKindPackager, "status": status, "package_id": "org.example." + name}
}

func obStage(name string, items ...map[string]any) map[string]any {
	return map[string]any{"name": name, "items": items}
}

const (
	stInstalled  = protocol.ItemInstalled
	stInstalling = protocol.ItemInstalling
	stPending    = protocol.ItemPending
	stFailed     = protocol.ItemFailed
	helpText     = "Your IT team can see what went wrong; contact them if you need help."
	whyText      = "Your IT team can see why."
)

// pageCase is one onboarding state and what the page must say about it.
type pageCase struct {
	name, state string
	stages      []map[string]any
	background  []map[string]any
	outcome     string            // the progress outcome the page is given
	want        map[string]string // element id → its whole text ("": empty or hidden)
	stageText   []string          // each stage as read: name, detail, [badge]
	not         []string          // text the page must not show anywhere
	shot        bool              // the outcome's picture in TestOnboardingScreenshots
}

// pageCases are the outcomes a user can meet, several of which a real run
// reaches only after minutes (a timeout) or by chance (an install caught in
// flight): the words must match what is on the Mac.
var pageCases = []pageCase{
	{
		// Only the app the agent installs now is "Now installing"; what
		// MDM installs is "Waiting for"; a queued app is neither.
		name: "running", state: protocol.OnboardingRunning, outcome: protocol.OutcomeRunning, shot: true,
		stages: []map[string]any{
			obStage(onboarding.ConfigurationsStage, obProfile("Wi-Fi", stInstalled), obProfile("VPN", stPending)),
			obStage("Example Tools", obInHouse("Example Tools", stInstalled)),
			obStage("Team Tools", obInHouse("Team Tools", stInstalling)),
			obStage("Notes Sync", obInHouse("Notes Sync", stPending)),
			obStage("Slack", obBooks("Slack", stPending)),
		},
		background: []map[string]any{obPackager("Firefox", stPending)},
		want: map[string]string{
			"title": "Setting up your Mac", "progress-text": "1 of 5 stages done",
			"current": "Now installing: Team Tools", "waiting": "Waiting for: VPN, Slack", "outcome": "",
		},
		stageText: []string{
			"Configurations — 1 of 2 installed [Installing]", "Example Tools — App [Installed]",
			"Team Tools — App [Installing]", "Notes Sync — App [Pending]", "Slack — App [Pending]",
		},
		not: []string{"Firefox", "Your Mac is ready"},
	},
	{
		// An install under way settles its stage but is no stage done.
		name: "running-nothing-installed", state: protocol.OnboardingRunning, outcome: protocol.OutcomeRunning,
		stages: []map[string]any{
			obStage(onboarding.ConfigurationsStage, obProfile("Wi-Fi", stPending), obProfile("VPN", stPending)),
			obStage("Example Tools", obInHouse("Example Tools", stInstalling)),
			obStage("Slack", obBooks("Slack", stPending)),
		},
		want: map[string]string{
			"title": "Setting up your Mac", "progress-text": "0 of 3 stages done",
			"current": "Now installing: Example Tools", "waiting": "Waiting for: Wi-Fi, VPN, Slack",
		},
	},
	{
		// Nothing is being installed: no "Now installing" line at all.
		name: "running-only-waiting", state: protocol.OnboardingRunning, outcome: protocol.OutcomeRunning,
		stages: []map[string]any{
			obStage(onboarding.ConfigurationsStage, obProfile("Wi-Fi", stPending)),
			obStage("Slack", obBooks("Slack", stPending)),
		},
		want:      map[string]string{"progress-text": "0 of 2 stages done", "current": "", "waiting": "Waiting for: Wi-Fi, Slack"},
		stageText: []string{"Configurations — Configuration [Pending]", "Slack — App [Pending]"},
		not:       []string{"Now installing"},
	},
	{
		name: "done", state: protocol.OnboardingDone, outcome: protocol.OutcomeDone, shot: true,
		stages: []map[string]any{
			obStage(onboarding.ConfigurationsStage, obProfile("Wi-Fi", stInstalled), obProfile("VPN", stInstalled)),
			obStage("Example Tools", obInHouse("Example Tools", stInstalled)),
			obStage("Slack", obBooks("Slack", stInstalled)),
		},
		background: []map[string]any{obPackager("Firefox", stInstalled)},
		want: map[string]string{
			"title": "Your Mac is ready", "intro": "Setup is complete.", "progress-text": "3 of 3 stages done",
			"current": "", "waiting": "", "outcome": "Everything is installed. You can start working.",
		},
		stageText: []string{"Configurations — 2 of 2 installed [Installed]", "Example Tools — App [Installed]", "Slack — App [Installed]"},
	},
	{
		// A background app still installing is said, not hidden.
		name: "done-background-installing", state: protocol.OnboardingDone, outcome: protocol.OutcomeDone,
		stages: []map[string]any{
			obStage(onboarding.ConfigurationsStage, obProfile("Wi-Fi", stInstalled)),
			obStage("Example Tools", obInHouse("Example Tools", stInstalled)),
		},
		background: []map[string]any{obPackager("Firefox", stInstalling)},
		want: map[string]string{
			"title": "Your Mac is ready", "progress-text": "2 of 2 stages done", "current": "",
			"outcome": "You can start working. Still installing: Firefox.",
		},
		not: []string{"Everything is installed"},
	},
	{
		name: "failed-app", state: protocol.OnboardingDone, outcome: protocol.OutcomeDoneWithFailures, shot: true,
		stages: []map[string]any{
			obStage(onboarding.ConfigurationsStage, obProfile("Wi-Fi", stInstalled), obProfile("VPN", stInstalled)),
			obStage("Example Tools", obInHouse("Example Tools", stFailed)),
			obStage("Slack", obBooks("Slack", stInstalled)),
		},
		want: map[string]string{
			"title": "Setup finished, with problems", "intro": "Not everything could be installed.",
			"progress-text": "2 of 3 stages done", "current": "", "waiting": "",
			"outcome": "Example Tools could not be installed. " + helpText + " You can start working.",
		},
		stageText: []string{
			"Configurations — 2 of 2 installed [Installed]", "Example Tools — Could not be installed. " + whyText + " [Failed]",
			"Slack — App [Installed]",
		},
		not: []string{"Your Mac is ready", "Everything is installed", "SHA-256"},
	},
	{
		// In a stage of several items the failed one is named.
		name: "failed-configuration", state: protocol.OnboardingDone, outcome: protocol.OutcomeDoneWithFailures,
		stages: []map[string]any{
			obStage(onboarding.ConfigurationsStage, obProfile("Wi-Fi", stInstalled), obProfile("VPN", stFailed)),
			obStage("Example Tools", obInHouse("Example Tools", stInstalled)),
		},
		want: map[string]string{
			"title": "Setup finished, with problems", "progress-text": "1 of 2 stages done",
			"outcome": "VPN was not installed. " + helpText + " You can start working.",
		},
		stageText: []string{"Configurations — VPN could not be installed. " + whyText + " [Failed]", "Example Tools — App [Installed]"},
		not:       []string{"Your Mac is ready", "Everything is installed"},
	},
	{
		// Every stage is done but an app of the background failed.
		name: "failed-background", state: protocol.OnboardingDone, outcome: protocol.OutcomeDoneWithFailures,
		stages: []map[string]any{
			obStage(onboarding.ConfigurationsStage, obProfile("Wi-Fi", stInstalled)),
			obStage("Example Tools", obInHouse("Example Tools", stInstalled)),
		},
		background: []map[string]any{obBooks("Pages", stFailed)},
		want: map[string]string{
			"title": "Setup finished, with problems", "progress-text": "2 of 2 stages done",
			"outcome": "Pages could not be installed. " + helpText + " You can start working.",
		},
		not: []string{"Your Mac is ready", "Everything is installed"},
	},
	{
		name: "timed-out", state: protocol.OnboardingTimedOut, outcome: protocol.OutcomeTimedOut, shot: true,
		stages: []map[string]any{
			obStage(onboarding.ConfigurationsStage, obProfile("Wi-Fi", stPending), obProfile("VPN", stPending), obProfile("Mail", stPending)),
			obStage("Example Tools", obInHouse("Example Tools", stInstalled)),
			obStage("Slack", obBooks("Slack", stPending)),
		},
		want: map[string]string{
			"title": "Setup continues in the background", "intro": "Setup is taking longer than planned. You can start working now.",
			"progress-text": "1 of 3 stages done", "current": "", "waiting": "",
			"outcome": "Still to come: Wi-Fi, VPN, Mail, Slack. They install in the background while you work.",
		},
		stageText: []string{"Configurations — 0 of 3 installed [Pending]", "Example Tools — App [Installed]", "Slack — App [Pending]"},
		not:       []string{"settings are in place", "Your Mac is ready", "Everything is installed"},
	},
	{
		// What is still installing, what is awaited and what failed are
		// all said.
		name: "timed-out-with-failure", state: protocol.OnboardingTimedOut, outcome: protocol.OutcomeTimedOut,
		stages: []map[string]any{
			obStage(onboarding.ConfigurationsStage, obProfile("Wi-Fi", stInstalled)),
			obStage("Example Tools", obInHouse("Example Tools", stFailed)),
			obStage("Team Tools", obInHouse("Team Tools", stInstalling)),
			obStage("Slack", obBooks("Slack", stPending)),
		},
		want: map[string]string{
			"title": "Setup continues in the background", "progress-text": "1 of 4 stages done", "current": "",
			"outcome": "Still to come: Team Tools, Slack. They install in the background while you work. " +
				"Example Tools could not be installed. " + helpText,
		},
		not: []string{"Your Mac is ready", "Everything is installed"},
	},
	{
		name: "skipped", state: protocol.OnboardingSkipped, outcome: protocol.OutcomeSkipped, shot: true,
		want: map[string]string{
			"title": "Nothing to set up", "progress-text": "Nothing to install", "current": "", "waiting": "",
			"outcome": "There is nothing to set up on this Mac. You can start working.",
		},
		not: []string{"Your Mac is ready"},
	},
}

// showState serves the page for the state file of tc, as `mobileatwork
// onboarding ui` serves it, and opens it in b once it is rendered.
func showState(t *testing.T, b *cdpBrowser, tc pageCase) {
	t.Helper()
	started := time.Now().Add(-3 * time.Minute).UTC()
	doc := map[string]any{"version": 1, "state": tc.state, "started_at": started, "deadline": started.Add(10 * time.Minute),
		"stages": tc.stages, "background": tc.background, "log": []any{}}
	if tc.stages == nil {
		doc["stages"] = []any{}
	}
	if tc.background == nil {
		doc["background"] = []any{}
	}
	if tc.state != protocol.OnboardingRunning {
		doc["ended_at"] = started.Add(2 * time.Minute)
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, onboarding.StateFile), raw, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	srv := servePage(t, onboarding.NewPage(ctx, onboarding.FileSource{StateDir: dir}))
	b.navigate(srv.URL())
	b.waitFor("the "+tc.outcome+" report rendered", fmt.Sprintf(`document.getElementById('main').dataset.outcome === %q &&
		document.querySelectorAll('#stages li').length === %d`, tc.outcome, len(tc.stages)))
	// The bar's transition ends before anything is read or pictured.
	b.waitFor("the bar still", `document.getElementById('bar-fill').getAnimations().length === 0`)
}

// TestOnboardingOutcomesInBrowser reads the page as a user does for each
// outcome: what failed is named in plain words, a timeout says what is not
// in place, and a running setup tells what is installed from what is
// awaited.
func TestOnboardingOutcomesInBrowser(t *testing.T) {
	t.Parallel()
	b := startCDP(t, 1280, 800) // skips without Chromium
	seen := map[string]bool{}
	for _, tc := range pageCases {
		seen[tc.outcome] = true
		t.Run(tc.name, func(t *testing.T) {
			showState(t, b, tc)
			var page map[string]string
			if err := b.eval(`(() => { const out = {body: document.body.innerText};
				for (const id of ['title', 'intro', 'progress-text', 'current', 'waiting', 'outcome']) {
					const el = document.getElementById(id); out[id] = el.hidden ? '' : el.textContent; }
				return out; })()`, &page); err != nil {
				t.Fatal(err)
			}
			for id, want := range tc.want {
				if page[id] != want {
					t.Errorf("#%s = %q, want %q", id, page[id], want)
				}
			}
			var stages []string
			if err := b.eval(`Array.from(document.querySelectorAll('#stages li')).map(li =>
				li.querySelector('.name').textContent + li.querySelector('.detail').textContent +
				' [' + li.querySelector('.badge').textContent + ']')`, &stages); err != nil {
				t.Fatal(err)
			}
			if tc.stageText != nil && !slices.Equal(stages, tc.stageText) {
				t.Errorf("stages read\n  %q\nwant\n  %q", stages, tc.stageText)
			}
			for _, n := range tc.not {
				if strings.Contains(page["body"], n) {
					t.Errorf("page says %q:\n%s", n, page["body"])
				}
			}
		})
	}
	for _, o := range []string{protocol.OutcomeRunning, protocol.OutcomeDone, protocol.OutcomeDoneWithFailures,
		protocol.OutcomeTimedOut, protocol.OutcomeSkipped} {
		if !seen[o] {
			t.Errorf("no case shows the %s outcome", o)
		}
	}
}

// TestOnboardingScreenshots pictures the page for each outcome into
// $MAW_SCREENSHOTS as onboarding-<outcome>.png (docs/images holds the set
// docs/onboarding.md shows).
func TestOnboardingScreenshots(t *testing.T) {
	if os.Getenv(screenshotsEnv) == "" {
		t.Skip("set " + screenshotsEnv + "=DIR to picture the onboarding page")
	}
	t.Parallel()
	dir := screenshotDir(t)
	b := startCDP(t, 1000, 900)
	for _, tc := range pageCases {
		if !tc.shot {
			continue
		}
		t.Run(tc.outcome, func(t *testing.T) {
			showState(t, b, tc)
			t.Logf("screenshot %s", b.screenshot(dir, "onboarding-"+tc.outcome+".png"))
		})
	}
}
