package e2e

import (
	"context"
	"encoding/json"
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

	"github.com/mobileatwork/mobileatwork/agent"
	"github.com/mobileatwork/mobileatwork/agent/installer/installertest"
	"github.com/mobileatwork/mobileatwork/executor"
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
	f.a, err = agent.New(agent.Options{
		StateDir: f.state, Version: "1.80.0", Retries: 1, InventoryRoot: f.root, UISessionDir: f.session,
		Capabilities: []string{protocol.CapSchedule, protocol.CapInventory, protocol.CapOnboarding},
		Facts:        func() protocol.Facts { return testFacts },
		ConsoleUser:  func() (executor.User, error) { return me, nil },
	})
	if err != nil {
		t.Fatal(err)
	}
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
	var s onboarding.UISession
	waitFor(t, 10*time.Second, "the page offered to the console user", func() (bool, error) {
		var err error
		s, err = onboarding.ReadUISession(f.session, os.Getuid(), "")
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
	s, err := onboarding.ReadUISession(f.session, os.Getuid(), "")
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
	p, err := f.e.srv.Files.Path(a.FileSHA256)
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
		s, _ := onboarding.ReadUISession(f.session, os.Getuid(), "")
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
