package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/mobileatwork/mobileatwork/agent"
	"github.com/mobileatwork/mobileatwork/agent/installer/installertest"
	"github.com/mobileatwork/mobileatwork/desktop"
	"github.com/mobileatwork/mobileatwork/executor"
	"github.com/mobileatwork/mobileatwork/internal/localweb"
	"github.com/mobileatwork/mobileatwork/internal/routines"
	"github.com/mobileatwork/mobileatwork/inventory/invtest"
	"github.com/mobileatwork/mobileatwork/onboarding"
	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server"
)

// onboardingFixture is a tenant with onboarding enabled, two
// configurations, two priority apps (an in-house PKG and an Apps & Books
// app), a packager app and an Apps & Books app without priority, and one
// enrolled agent whose device is a directory (the Linux twins).
type onboardingFixture struct {
	e       *env
	apps    map[string]string // name → app id
	a       *agent.Agent
	state   string
	root    string // the device's file system
	session string // where the daemon offers the page to the console user
}

func newOnboardingFixture(t *testing.T) *onboardingFixture {
	t.Helper()
	e := newEnv(t)
	ctx := context.Background()
	e.config("onboarding.enabled=true", "onboarding.setup_timeout_seconds=120", "onboarding.window_minutes=20",
		"onboarding.landing_url=https://intranet.example.com/welcome")
	for _, p := range [][2]string{{"Wi-Fi", "com.example.wifi"}, {"VPN", "com.example.vpn"}} {
		if _, err := e.srv.AddProfile(ctx, p[0], p[1], nil); err != nil {
			t.Fatal(err)
		}
	}
	pkg, err := installertest.PKG("com.example.tools", "2.1", "Applications/Example Tools.app")
	if err != nil {
		t.Fatal(err)
	}
	pkgFile := filepath.Join(t.TempDir(), "tools.pkg")
	if err := os.WriteFile(pkgFile, pkg, 0o644); err != nil {
		t.Fatal(err)
	}
	apps := map[string]string{}
	for _, req := range []server.AddAppRequest{
		{Name: "Example Tools", Kind: protocol.AppKindInHouse, PackageID: "com.example.tools", Priority: true, File: pkgFile},
		{Name: "Slack", Kind: protocol.AppKindAppsAndBooks, BundleID: "com.tinyspeck.slackmacgap", Priority: true},
		{Name: "Firefox", Kind: protocol.AppKindPackager, PackageID: "org.mozilla.firefox", Priority: true},
		{Name: "Pages", Kind: protocol.AppKindAppsAndBooks, BundleID: "com.apple.iWork.Pages"},
	} {
		app, err := e.srv.AddApp(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.srv.DistributeApp(ctx, app.ID, []string{"all"}); err != nil {
			t.Fatal(err)
		}
		apps[req.Name] = app.ID
	}
	f := &onboardingFixture{e: e, apps: apps, state: e.enroll(), root: t.TempDir(), session: t.TempDir()}
	me := executor.User{UID: uint32(os.Getuid()), GID: uint32(os.Getgid()), Name: "ada"}
	f.a = newAgentWith(t, f.state, func(o *agent.Options) {
		o.InventoryRoot, o.UISessionDir = f.root, f.session
		o.Capabilities = []string{protocol.CapSchedule, protocol.CapInventory, protocol.CapOnboarding}
		o.ConsoleUser = func() (executor.User, error) { return me, nil }
	})
	return f
}

// cycle checks in; the check-in feeds the plan to the onboarding.
func (f *onboardingFixture) cycle(t *testing.T) {
	t.Helper()
	if err := f.a.Cycle(t.Context()); err != nil {
		t.Fatalf("check-in: %v", err)
	}
}

// profile installs a configuration on the device (the profiles twin).
func (f *onboardingFixture) profile(t *testing.T, id string) {
	t.Helper()
	dir := filepath.Join(f.root, onboarding.ProfilesTwinDir)
	os.MkdirAll(dir, 0o755)
	if err := os.WriteFile(filepath.Join(dir, id), nil, 0o644); err != nil {
		t.Fatal(err)
	}
}

// page is the progress page as the console user's session gets it.
func (f *onboardingFixture) page(t *testing.T) *onboarding.PageClient {
	t.Helper()
	// The daemon starts the page beside the check-in: wait for the offer.
	var s desktop.Offer
	waitFor(t, 10*time.Second, "the page offered to the console user", func() (bool, error) {
		var err error
		s, err = desktop.ReadOffer(f.session, os.Getuid(), "")
		return err == nil, err
	})
	c, err := onboarding.NewPageClient(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// waitPage waits until the page shows what ok wants.
func waitPage(t *testing.T, c *onboarding.PageClient, what string, ok func(protocol.OnboardingReport) bool) protocol.OnboardingReport {
	t.Helper()
	var r protocol.OnboardingReport
	waitFor(t, 10*time.Second, "the page to show "+what, func() (bool, error) {
		var err error
		if r, err = c.Status(t.Context()); err != nil {
			return false, err
		}
		if !ok(r) {
			return false, fmt.Errorf("the page shows %s with stages %q", r.State, stageStatuses(r.Stages))
		}
		return true, nil
	})
	return r
}

func stageStatuses(stages []protocol.OnboardingStage) []string {
	var out []string
	for _, s := range stages {
		out = append(out, s.Name+"="+s.Status)
	}
	return out
}

func TestOnboardingPlanToProgressOnServer(t *testing.T) {
	t.Parallel()
	f := newOnboardingFixture(t)
	f.cycle(t)
	page := f.page(t)
	want := []string{"Configurations=pending", "Example Tools=installed", "Slack=pending"}
	r := waitPage(t, page, "the in-house app installed", func(r protocol.OnboardingReport) bool {
		return slices.Equal(stageStatuses(r.Stages), want)
	})
	if r.State != protocol.OnboardingRunning || len(r.Stages) != 3 {
		t.Fatalf("state %s with %d stages, want running with 3 (packager apps are no stage)", r.State, len(r.Stages))
	}
	var bg []string
	for _, it := range r.Background {
		bg = append(bg, it.Name)
	}
	if !slices.Equal(bg, []string{"Firefox", "Pages"}) {
		t.Errorf("background = %q, want Firefox (packager) and Pages", bg)
	}

	f.profile(t, "com.example.wifi")
	f.profile(t, "com.example.vpn")
	if err := invtest.WriteApp(f.root, "Applications/Slack.app", invtest.AppInfo("com.tinyspeck.slackmacgap", "Slack", "4.41.97"), false); err != nil {
		t.Fatal(err)
	}
	f.cycle(t)
	waitPage(t, page, "done", func(r protocol.OnboardingReport) bool { return r.State == protocol.OnboardingDone })

	// The tenant sees the same progress, with the device's log.
	var got protocol.OnboardingReport
	waitFor(t, 10*time.Second, "the server to hear the onboarding was done", func() (bool, error) {
		o, err := f.e.srv.DeviceOnboarding(context.Background(), f.a.DeviceID())
		if err != nil {
			return false, err
		}
		if got = o.OnboardingReport; got.State != protocol.OnboardingDone {
			return false, fmt.Errorf("the server has it %s", got.State)
		}
		return true, nil
	})
	if want := []string{"Configurations=installed", "Example Tools=installed", "Slack=installed"}; !slices.Equal(stageStatuses(got.Stages), want) {
		t.Errorf("server stages = %q, want %q", stageStatuses(got.Stages), want)
	}
	log := ""
	for _, l := range got.Log {
		log += l.Message + "\n"
	}
	for _, want := range []string{"onboarding started: 3 stage(s)", `inhouse "Example Tools" installed`, "onboarding done", "landing page"} {
		if !strings.Contains(log, want) {
			t.Errorf("server log lacks %q:\n%s", want, log)
		}
	}

	t.Run("admin CLI", func(t *testing.T) {
		out, err := exec.Command(filepath.Join(binDir, "mobileatwork-server"), "onboarding", "--data", f.e.data,
			"--device", f.a.DeviceID(), "--json").Output()
		if err != nil {
			t.Fatalf("mobileatwork-server onboarding: %v", err)
		}
		var doc struct {
			State  string                       `json:"state"`
			Stages []protocol.OnboardingStage   `json:"stages"`
			Log    []protocol.OnboardingLogLine `json:"log"`
		}
		if err := json.Unmarshal(out, &doc); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		if doc.State != protocol.OnboardingDone || len(doc.Stages) != 3 || len(doc.Log) == 0 {
			t.Errorf("onboarding --json = %s", out)
		}
	})
	t.Run("agent CLI", func(t *testing.T) {
		out, err := exec.Command(filepath.Join(binDir, "mobileatwork"), "onboarding", "status", "--json", "--state-dir", f.state).Output()
		if err != nil {
			t.Fatalf("mobileatwork onboarding status: %v", err)
		}
		var doc map[string]any
		if err := json.Unmarshal(out, &doc); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		for _, k := range []string{"state", "started_at", "deadline", "stages"} {
			if _, ok := doc[k]; !ok {
				t.Errorf("status --json lacks %q: %s", k, out)
			}
		}
		stage := doc["stages"].([]any)[0].(map[string]any)
		item := stage["items"].([]any)[0].(map[string]any)
		if stage["name"] != "Configurations" || stage["status"] != "installed" || item["name"] != "Wi-Fi" || item["kind"] != "profile" {
			t.Errorf("first stage = %v", stage)
		}
		out, err = exec.Command(filepath.Join(binDir, "mobileatwork"), "onboarding", "status", "--state-dir", f.state).Output()
		if err != nil || !strings.Contains(string(out), "[##############################] 3/3 stages") {
			t.Errorf("terminal view (%v):\n%s", err, out)
		}
	})
}

// pageStages is "name=status" of each stage the page shows.
const pageStages = `Array.from(document.querySelectorAll('#stages li')).map(li => li.querySelector('.name').textContent + '=' + li.dataset.status)`

func TestOnboardingPageInBrowser(t *testing.T) {
	t.Parallel()
	b := startCDP(t, 1280, 800) // skips without Chromium
	f := newOnboardingFixture(t)
	f.cycle(t)
	page := f.page(t)
	waitPage(t, page, "the in-house app installed", func(r protocol.OnboardingReport) bool {
		return r.Stages[1].Status == protocol.ItemInstalled
	})
	s, err := desktop.ReadOffer(f.session, os.Getuid(), "")
	if err != nil {
		t.Fatal(err)
	}
	b.navigate(s.URL)
	b.waitFor("three stages", `document.querySelectorAll('#stages li').length === 3`)
	check := func(want []string) {
		t.Helper()
		var got []string
		if err := b.eval(pageStages, &got); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("stages on the page = %q, want %q", got, want)
		}
	}
	check([]string{"Configurations=pending", "Example Tools=installed", "Slack=pending"})

	// The page follows the device live, without a reload.
	f.profile(t, "com.example.wifi")
	f.cycle(t)
	b.waitFor("Wi-Fi installed", `document.querySelector('#stages li').dataset.status === 'installing'`)
	check([]string{"Configurations=installing", "Example Tools=installed", "Slack=pending"})
	var a11y map[string]string
	if err := b.eval(`(() => { const bar = document.getElementById('bar'), cur = document.getElementById('current');
		return {role: bar.getAttribute('role'), max: bar.getAttribute('aria-valuemax'), now: bar.getAttribute('aria-valuenow'),
			text: bar.getAttribute('aria-valuetext'), live: cur.getAttribute('aria-live'), current: cur.textContent,
			waiting: document.getElementById('waiting').textContent,
			left: document.getElementById('time-left').textContent,
			detail: document.querySelector('#stages li .detail').textContent}; })()`, &a11y); err != nil {
		t.Fatal(err)
	}
	// MDM installs the VPN profile and Slack: the agent waits for them and
	// installs nothing itself.
	for k, want := range map[string]string{"role": "progressbar", "max": "3", "now": "1", "text": "1 of 3 stages done",
		"live": "polite", "current": "", "waiting": "Waiting for: VPN, Slack"} {
		if a11y[k] != want {
			t.Errorf("page %s = %q, want %q", k, a11y[k], want)
		}
	}
	if !strings.Contains(a11y["detail"], "1 of 2 installed") || !strings.HasSuffix(a11y["left"], " s left") {
		t.Errorf("stage detail %q and time left %q", a11y["detail"], a11y["left"])
	}

	f.profile(t, "com.example.vpn")
	if err := invtest.WriteApp(f.root, "Applications/Slack.app", invtest.AppInfo("com.tinyspeck.slackmacgap", "Slack", "4.41.97"), false); err != nil {
		t.Fatal(err)
	}
	f.cycle(t)
	b.waitFor("done", `document.getElementById('main').dataset.state === 'done'`)
	check([]string{"Configurations=installed", "Example Tools=installed", "Slack=installed"})
	var outcome string
	b.eval(`document.getElementById('outcome').hidden ? '' : document.getElementById('outcome').textContent`, &outcome)
	var title string
	b.eval(`document.getElementById('title').textContent`, &title)
	if !strings.Contains(outcome, "Everything is installed") || title != "Your Mac is ready" {
		t.Errorf("title %q, outcome %q", title, outcome)
	}
	b.waitFor("bar full", `document.getElementById('bar-fill').getAnimations().length === 0 &&
		document.getElementById('bar-fill').getBoundingClientRect().width >= document.getElementById('bar').clientWidth - 1`)
}

// A package that does not match the digest of the signed plan is refused:
// nothing is installed, the stage shows the failure, and onboarding does not
// hold the Mac for it.
func TestOnboardingTamperedPackageFails(t *testing.T) {
	t.Parallel()
	f := newOnboardingFixture(t)
	a, err := f.e.srv.Store.App(context.Background(), f.apps["Example Tools"])
	if err != nil {
		t.Fatal(err)
	}
	p, err := filePath(f.e.srv, a.FileSHA256)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	f.profile(t, "com.example.wifi")
	f.profile(t, "com.example.vpn")
	f.cycle(t)
	page := f.page(t)
	r := waitPage(t, page, "the tampered app failed", func(r protocol.OnboardingReport) bool {
		return r.Stages[1].Status == protocol.ItemFailed
	})
	if it := r.Stages[1].Items[0]; !strings.Contains(it.Error, "download Example Tools") {
		t.Errorf("failed item error = %q, want the refused download", it.Error)
	}
	br := startCDPIfAvailable(t)
	if br != nil {
		s, _ := desktop.ReadOffer(f.session, os.Getuid(), "")
		br.navigate(s.URL)
		br.waitFor("the failed stage", `document.querySelector('#stages li[data-stage="2"]').dataset.status === 'failed'`)
		var detail string
		br.eval(`document.querySelector('#stages li[data-stage="2"] .detail').textContent`, &detail)
		if !strings.Contains(detail, "Could not be installed") || strings.Contains(detail, "SHA-256") {
			t.Errorf("failed stage detail = %q, want a plain message (the reason is for the tenant's log)", detail)
		}
	}
	if err := invtest.WriteApp(f.root, "Applications/Slack.app", invtest.AppInfo("com.tinyspeck.slackmacgap", "Slack", "4.41.97"), false); err != nil {
		t.Fatal(err)
	}
	f.cycle(t)
	r = waitPage(t, page, "done", func(r protocol.OnboardingReport) bool { return r.Final() })
	if r.State != protocol.OnboardingDone || r.Progress.Outcome != protocol.OutcomeDoneWithFailures {
		t.Errorf("state = %s, outcome %+v; want done with failures: a failed app does not hold the Mac", r.State, r.Progress)
	}
	if br != nil {
		br.waitFor("the outcome", `document.getElementById('main').dataset.outcome === 'done_with_failures'`)
		var got map[string]string
		br.eval(`({title: document.getElementById('title').textContent, outcome: document.getElementById('outcome').textContent,
			progress: document.getElementById('progress-text').textContent})`, &got)
		if got["title"] == "Your Mac is ready" || strings.Contains(got["outcome"], "Everything is installed") ||
			!strings.Contains(got["outcome"], "Example Tools could not be installed.") || !strings.Contains(got["outcome"], "IT team") ||
			got["progress"] != "2 of 3 stages done" {
			t.Errorf("page after a failed stage = %q", got)
		}
	}
	if _, err := os.Stat(filepath.Join(f.root, "var/db/receipts/com.example.tools.plist")); err == nil {
		t.Error("the tampered package was installed")
	}
}

// startCDPIfAvailable is startCDP for tests that also run without a browser.
func startCDPIfAvailable(t *testing.T) *cdpBrowser {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Logf("no %s: the page is not checked in a browser", chromiumPath)
		return nil
	}
	return startCDP(t, 1280, 800)
}

// A one-shot check-in waits for the onboarding install it started: it
// never returns (and its process never exits) with the item "installing"
// and a partial download left behind.
func TestOneShotCheckinFinishesItsInstalls(t *testing.T) {
	t.Parallel()
	f := newOnboardingFixture(t)
	f.e.setIntercept(func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		if strings.HasSuffix(r.URL.Path, "/package") {
			time.Sleep(1500 * time.Millisecond) // a slow download
		}
		next.ServeHTTP(w, r)
	})
	f.cycle(t)
	o, err := f.e.srv.DeviceOnboarding(context.Background(), f.a.DeviceID())
	if err != nil {
		t.Fatal(err)
	}
	if got := stageStatuses(o.Stages); !slices.Contains(got, "Example Tools=installed") {
		t.Fatalf("right after the check-in returned: %q; want Example Tools installed", got)
	}
	filepath.WalkDir(f.state, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.Contains(d.Name(), ".tmp-") || strings.Contains(d.Name(), ".part-")) {
			t.Errorf("partial file left behind: %s", p)
		}
		return nil
	})
}

// A one-shot check-in leaves the onboarding loop and its progress page
// running until the agent is closed; Close withdraws the page and leaves no
// goroutine behind.
func TestCloseAfterCheckinLeavesNothingRunning(t *testing.T) {
	f := newOnboardingFixture(t)
	before := goleak.IgnoreCurrent()
	f.cycle(t)
	s, err := desktop.ReadOffer(f.session, os.Getuid(), "")
	if err != nil || !s.Onboarding() {
		t.Fatalf("progress page not offered after the check-in: %+v, %v", s, err)
	}
	if err := localweb.Probe(t.Context(), s.URL); err != nil {
		t.Fatalf("offered page does not answer: %v", err)
	}
	f.a.Close()
	if _, err := desktop.ReadOffer(f.session, os.Getuid(), ""); !errors.Is(err, desktop.ErrNoOffer) {
		t.Errorf("offer left behind after Close: %v", err)
	}
	if err := localweb.Probe(context.Background(), s.URL); !errors.Is(err, localweb.ErrPageDown) {
		t.Errorf("page still answers after Close: %v", err)
	}
	goleak.VerifyNone(t, before)
}

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

// endedStages is a plan whose every stage is settled: both configurations
// and Slack installed, Example Tools as given.
func endedStages(tools string) []map[string]any {
	return []map[string]any{
		obStage(onboarding.ConfigurationsStage, obProfile("Wi-Fi", stInstalled), obProfile("VPN", stInstalled)),
		obStage("Example Tools", obInHouse("Example Tools", tools)),
		obStage("Slack", obBooks("Slack", stInstalled)),
	}
}

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
		stages:     endedStages(stInstalled),
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
		stages:     endedStages(stInstalled),
		background: []map[string]any{obPackager("Firefox", stInstalling)},
		want: map[string]string{
			"title": "Your Mac is ready", "progress-text": "3 of 3 stages done", "current": "",
			"outcome": "You can start working. Still installing: Firefox.",
		},
		not: []string{"Everything is installed"},
	},
	{
		name: "failed-app", state: protocol.OnboardingDone, outcome: protocol.OutcomeDoneWithFailures, shot: true,
		stages: endedStages(stFailed),
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
		stages:     endedStages(stInstalled),
		background: []map[string]any{obBooks("Pages", stFailed)},
		want: map[string]string{
			"title": "Setup finished, with problems", "progress-text": "3 of 3 stages done",
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
	src := onboarding.NewFileSource(dir)
	page := onboarding.NewPage(src)
	g := routines.New(context.Background())
	t.Cleanup(g.Close)
	g.Go(src.Watch)
	g.Go(page.Publish)
	srv := servePage(t, page)
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
