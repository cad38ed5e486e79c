package onboarding

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/mobileatwork/mobileatwork/protocol"
)

// fakeDevice observes what tests say is installed and installs packages
// by recording them; an install of a path listed in fail fails.
type fakeDevice struct {
	mu        sync.Mutex
	profiles  map[string]bool
	bundles   map[string]string
	packages  map[string]bool
	installed []string        // asset URLs installed, in order
	fail      map[string]bool // asset URL → install fails
	block     chan struct{}   // when set, installs wait for it to close
	fetched   map[string]string
	reports   []protocol.OnboardingReport
	opened    []string
}

func newFakeDevice() *fakeDevice {
	return &fakeDevice{profiles: map[string]bool{}, bundles: map[string]string{}, packages: map[string]bool{},
		fail: map[string]bool{}, fetched: map[string]string{}}
}

func (d *fakeDevice) InstalledProfiles(context.Context) (map[string]bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return copySet(d.profiles), nil
}

func (d *fakeDevice) InstalledApps(context.Context) (Installed, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	b := map[string]string{}
	for k, v := range d.bundles {
		b[k] = v
	}
	return Installed{Bundles: b, Packages: copySet(d.packages)}, nil
}

func (d *fakeDevice) Fetch(_ context.Context, a protocol.Asset, dst string) error {
	d.mu.Lock()
	d.fetched[dst] = a.URL
	d.mu.Unlock()
	return os.WriteFile(dst, []byte(a.URL), 0o600)
}

func (d *fakeDevice) Install(ctx context.Context, pkg string) error {
	d.mu.Lock()
	block, url := d.block, d.fetched[pkg]
	d.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.fail[url] {
		return errors.New("installer: the package is damaged")
	}
	d.installed = append(d.installed, url)
	return nil
}

func (d *fakeDevice) ReportOnboarding(_ context.Context, r protocol.OnboardingReport) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.reports = append(d.reports, r)
	return nil
}

func (d *fakeDevice) Open(_ context.Context, u string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.opened = append(d.opened, u)
	return nil
}

func copySet(m map[string]bool) map[string]bool {
	out := map[string]bool{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

var enrolled = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

func newMachine(t *testing.T, dir string, clock *clockwork.FakeClock, d *fakeDevice) *Machine {
	t.Helper()
	m, err := Open(Options{
		StateDir: dir, DeviceID: "dev_1", EnrolledAt: enrolled, Clock: clock,
		Profiles: d, Apps: d, Fetcher: d, Installer: d, Reporter: d, Opener: d,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Wait) // installs write to dir, which is removed next
	return m
}

// runTicking runs m.Run, moving the clock on by a tick each time Run
// waits for one, until Run returns: it has no work left.
func runTicking(t *testing.T, m *Machine, clock *clockwork.FakeClock, every time.Duration) {
	t.Helper()
	waiting, stop := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); defer stop(); m.Run(t.Context(), every) }()
	for clock.BlockUntilContext(waiting, 1) == nil {
		clock.Advance(every)
	}
	<-done
}

func pkg(name string) *protocol.Asset {
	return &protocol.Asset{URL: "/v1/assets/" + name, SHA256: strings.Repeat("a", 64), Size: 10}
}

// samplePlan is 2 configurations, 2 priority apps (one in-house, one Apps &
// Books), 1 priority packager app and 2 other apps: three stages.
func samplePlan() (*protocol.OnboardingPlan, []protocol.AppOffer) {
	plan := &protocol.OnboardingPlan{
		Enabled: true, SetupTimeoutSeconds: 120, WindowMinutes: 20, LandingURL: "https://intranet.example.com/welcome",
		Profiles: []protocol.Profile{
			{ID: "prf_wifi", Name: "Wi-Fi", Identifier: "com.example.wifi"},
			{ID: "prf_vpn", Name: "VPN", Identifier: "com.example.vpn"},
		},
	}
	apps := []protocol.AppOffer{
		{ID: "app_tools", Name: "Example Tools", Kind: protocol.AppKindInHouse, PackageID: "com.example.tools", Priority: true, Package: pkg("tools")},
		{ID: "app_slack", Name: "Slack", Kind: protocol.AppKindAppsAndBooks, BundleID: "com.tinyspeck.slackmacgap", Priority: true},
		{ID: "app_ff", Name: "Firefox", Kind: protocol.AppKindPackager, PackageID: "org.mozilla.firefox", Priority: true},
		{ID: "app_notes", Name: "Notes Helper", Kind: protocol.AppKindInHouse, PackageID: "com.example.notes", Package: pkg("notes")},
		{ID: "app_pages", Name: "Pages", Kind: protocol.AppKindAppsAndBooks, BundleID: "com.apple.iWork.Pages"},
	}
	return plan, apps
}

func statuses(r protocol.OnboardingReport) []string {
	var out []string
	for _, s := range r.Stages {
		out = append(out, s.Name+"="+s.Status)
	}
	return out
}

func TestBuildStages(t *testing.T) {
	plan, apps := samplePlan()
	stages, background := buildStages(*plan, apps)
	var names []string
	for _, s := range stages {
		names = append(names, s.Name)
	}
	if want := []string{ConfigurationsStage, "Example Tools", "Slack"}; !slices.Equal(names, want) {
		t.Errorf("stages = %q, want %q", names, want)
	}
	if len(stages[0].Items) != 2 {
		t.Errorf("configurations stage has %d items, want 2", len(stages[0].Items))
	}
	var bg []string
	for _, it := range background {
		bg = append(bg, it.Name)
	}
	if want := []string{"Firefox", "Notes Helper", "Pages"}; !slices.Equal(bg, want) {
		t.Errorf("background = %q, want %q", bg, want)
	}
	t.Run("no configurations", func(t *testing.T) {
		stages, _ := buildStages(protocol.OnboardingPlan{Enabled: true}, apps[:1])
		if len(stages) != 1 || stages[0].Name != "Example Tools" {
			t.Errorf("stages = %+v, want only the priority app", stages)
		}
	})
}

func TestWindow(t *testing.T) {
	tests := []struct {
		name  string
		after time.Duration
		plan  bool
		want  string
	}{
		{"within the window", 5 * time.Minute, true, protocol.OnboardingRunning},
		{"window elapsed", 20 * time.Minute, true, protocol.OnboardingSkipped},
		{"window elapsed, onboarding disabled", 45 * time.Minute, false, protocol.OnboardingSkipped},
		{"disabled within the window stays pending", time.Minute, false, protocol.OnboardingPending},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := clockwork.NewFakeClockAt(enrolled.Add(tc.after))
			d := newFakeDevice()
			m := newMachine(t, t.TempDir(), clock, d)
			plan, apps := samplePlan()
			if !tc.plan {
				plan = nil
			}
			if err := m.Update(t.Context(), plan, apps); err != nil {
				t.Fatal(err)
			}
			if got := m.Report().State; got != tc.want {
				t.Fatalf("state = %s, want %s", got, tc.want)
			}
			if tc.want == protocol.OnboardingSkipped {
				// A later plan, even an enabled one, never starts it.
				plan, apps := samplePlan()
				m.Update(t.Context(), plan, apps)
				if err := m.Tick(t.Context()); err != nil {
					t.Fatal(err)
				}
				if r := m.Report(); r.State != protocol.OnboardingSkipped || len(r.Stages) != 0 {
					t.Errorf("after a late plan: state %s with %d stages, want skipped with none", r.State, len(r.Stages))
				}
			}
		})
	}
	t.Run("pending until the window elapses", func(t *testing.T) {
		clock := clockwork.NewFakeClockAt(enrolled.Add(time.Minute))
		m := newMachine(t, t.TempDir(), clock, newFakeDevice())
		m.Update(t.Context(), nil, nil)
		clock.Advance(19 * time.Minute)
		if err := m.Tick(t.Context()); err != nil {
			t.Fatal(err)
		}
		if got := m.Report().State; got != protocol.OnboardingSkipped {
			t.Errorf("state = %s, want skipped", got)
		}
	})
}

func TestCompletes(t *testing.T) {
	clock := clockwork.NewFakeClockAt(enrolled.Add(time.Minute))
	d := newFakeDevice()
	m := newMachine(t, t.TempDir(), clock, d)
	plan, apps := samplePlan()
	if err := m.Update(t.Context(), plan, apps); err != nil {
		t.Fatal(err)
	}
	tick := func() {
		t.Helper()
		if err := m.Tick(t.Context()); err != nil {
			t.Fatal(err)
		}
		m.Wait()
	}
	tick()
	r := m.Report()
	// The in-house priority app's install started (and finished: the fake is
	// instant); configurations and Slack are not there yet.
	if want := []string{"Configurations=pending", "Example Tools=installed", "Slack=pending"}; !slices.Equal(statuses(r), want) {
		t.Fatalf("stages = %q, want %q", statuses(r), want)
	}
	// Nothing is being installed: the agent waits for MDM's profiles and app.
	if r.State != protocol.OnboardingRunning || r.Current != "" || !slices.Equal(r.Progress.WaitingFor, []string{"Wi-Fi", "VPN", "Slack"}) {
		t.Errorf("state %s, current %q, progress %+v; want running, nothing installing, waiting for Wi-Fi, VPN, Slack", r.State, r.Current, r.Progress)
	}
	d.mu.Lock()
	d.profiles["com.example.wifi"] = true
	d.mu.Unlock()
	tick()
	if got := m.Report().Stages[0].Status; got != protocol.ItemInstalling {
		t.Errorf("configurations with one of two profiles = %s, want installing", got)
	}
	d.mu.Lock()
	d.profiles["com.example.vpn"] = true
	d.bundles["com.tinyspeck.slackmacgap"] = "/Applications/Slack.app"
	d.mu.Unlock()
	clock.Advance(10 * time.Second)
	tick()
	r = m.Report()
	if r.State != protocol.OnboardingDone {
		t.Fatalf("state = %s, want done; stages %q", r.State, statuses(r))
	}
	if !r.EndedAt.Equal(clock.Now()) {
		t.Errorf("ended at %s, want %s", r.EndedAt, clock.Now())
	}
	tick() // background install of the non-priority in-house app
	d.mu.Lock()
	defer d.mu.Unlock()
	if want := []string{"/v1/assets/tools", "/v1/assets/notes"}; !slices.Equal(d.installed, want) {
		t.Errorf("installed %q, want %q (stage apps first)", d.installed, want)
	}
	if want := []string{plan.LandingURL}; !slices.Equal(d.opened, want) {
		t.Errorf("opened %q, want %q once", d.opened, want)
	}
	if len(d.reports) == 0 || d.reports[len(d.reports)-1].DeviceID != "dev_1" {
		t.Errorf("reports: %d, want the progress reported with the device id", len(d.reports))
	}
}

func TestTimeout(t *testing.T) {
	clock := clockwork.NewFakeClockAt(enrolled.Add(time.Minute))
	d := newFakeDevice()
	d.block = make(chan struct{})
	m := newMachine(t, t.TempDir(), clock, d)
	plan, apps := samplePlan()
	// Two in-house priority apps: the second waits behind the first.
	apps = append(apps[:1], append([]protocol.AppOffer{{ID: "app_zoom", Name: "Zoom", Kind: protocol.AppKindInHouse,
		PackageID: "us.zoom.pkg", Priority: true, Package: pkg("zoom")}}, apps[1:]...)...)
	m.Update(t.Context(), plan, apps)
	m.Tick(t.Context())
	clock.Advance(119 * time.Second)
	m.Tick(t.Context())
	if got := m.Report().State; got != protocol.OnboardingRunning {
		t.Fatalf("before the timeout: %s, want running", got)
	}
	clock.Advance(time.Second)
	m.Tick(t.Context())
	r := m.Report()
	if r.State != protocol.OnboardingTimedOut {
		t.Fatalf("state = %s, want timed_out", r.State)
	}
	if !slices.ContainsFunc(r.Log, func(l protocol.OnboardingLogLine) bool { return strings.Contains(l.Message, "timeout") }) {
		t.Errorf("log %+v should say the setup timed out", r.Log)
	}
	if !m.Busy() {
		t.Fatal("timed out with apps left to install: the machine must keep going")
	}
	close(d.block)
	runTicking(t, m, clock, time.Second)
	if m.Busy() {
		t.Fatal("still busy after Run returned")
	}
	d.mu.Lock()
	got := slices.Clone(d.installed)
	d.mu.Unlock()
	if want := []string{"/v1/assets/tools", "/v1/assets/zoom", "/v1/assets/notes"}; !slices.Equal(got, want) {
		t.Errorf("installed after the timeout: %q, want %q", got, want)
	}
	if r := m.Report(); r.State != protocol.OnboardingTimedOut || r.Stages[2].Status != protocol.ItemInstalled {
		t.Errorf("state %s, Zoom stage %s; want timed_out, installed", r.State, r.Stages[2].Status)
	}
}

func TestRestartInTheMiddle(t *testing.T) {
	dir := t.TempDir()
	clock := clockwork.NewFakeClockAt(enrolled.Add(time.Minute))
	d := newFakeDevice()
	d.block = make(chan struct{})
	m := newMachine(t, dir, clock, d)
	plan, apps := samplePlan()
	m.Update(t.Context(), plan, apps)
	ctx, cancel := context.WithCancel(t.Context())
	m.Tick(ctx)
	d.mu.Lock()
	d.profiles["com.example.wifi"] = true
	d.mu.Unlock()
	m.Tick(ctx)
	cancel() // the daemon stops in the middle of the Example Tools install
	m.Wait()

	d2 := newFakeDevice()
	d2.profiles = copySet(d.profiles)
	clock.Advance(30 * time.Second)
	m2 := newMachine(t, dir, clock, d2)
	r := m2.Report()
	if r.State != protocol.OnboardingRunning || !r.StartedAt.Equal(enrolled.Add(time.Minute)) {
		t.Fatalf("after restart: state %s started %s; want the same running onboarding", r.State, r.StartedAt)
	}
	// A new check-in with a changed plan does not restart or change it.
	plan2, _ := samplePlan()
	plan2.Profiles = plan2.Profiles[:1]
	m2.Update(t.Context(), plan2, nil)
	if got := len(m2.Report().Stages[0].Items); got != 2 {
		t.Errorf("configurations after a new plan: %d items, want the 2 it started with", got)
	}
	if err := m2.Tick(t.Context()); err != nil {
		t.Fatal(err)
	}
	m2.Wait()
	m2.Tick(t.Context())
	m2.Wait()
	d2.mu.Lock()
	if !slices.Contains(d2.installed, "/v1/assets/tools") {
		t.Errorf("interrupted install not resumed: installed %q", d2.installed)
	}
	d2.mu.Unlock()
	r = m2.Report()
	if r.Stages[0].Items[0].Status != protocol.ItemInstalled {
		t.Errorf("Wi-Fi = %s after restart, want installed", r.Stages[0].Items[0].Status)
	}
	// The deadline is absolute: a restart does not grant a new timeout.
	clock.Advance(90 * time.Second)
	m2.Tick(t.Context())
	if got := m2.Report().State; got != protocol.OnboardingTimedOut {
		t.Errorf("state = %s, want timed_out at the original deadline", got)
	}
}

func TestInstallFailureShown(t *testing.T) {
	clock := clockwork.NewFakeClockAt(enrolled.Add(time.Minute))
	d := newFakeDevice()
	d.fail["/v1/assets/tools"] = true
	d.profiles = map[string]bool{"com.example.wifi": true, "com.example.vpn": true}
	d.bundles["com.tinyspeck.slackmacgap"] = "/Applications/Slack.app"
	m := newMachine(t, t.TempDir(), clock, d)
	plan, apps := samplePlan()
	m.Update(t.Context(), plan, apps)
	m.Tick(t.Context())
	m.Wait()
	m.Tick(t.Context())
	m.Wait()
	r := m.Report()
	if want := []string{"Configurations=installed", "Example Tools=failed", "Slack=installed"}; !slices.Equal(statuses(r), want) {
		t.Fatalf("stages = %q, want %q", statuses(r), want)
	}
	it := r.Stages[1].Items[0]
	if it.Status != protocol.ItemFailed || !strings.Contains(it.Error, "damaged") {
		t.Errorf("failed item = %+v, want the installer's error", it)
	}
	if r.State != protocol.OnboardingDone {
		t.Errorf("state = %s: a failed app must not hold the Mac in kiosk mode", r.State)
	}
	found := false
	for _, l := range r.Log {
		found = found || strings.Contains(l.Message, "failed") && strings.Contains(l.Message, "Example Tools")
	}
	if !found {
		t.Errorf("log %+v does not name the failure", r.Log)
	}
}

func TestLogBounded(t *testing.T) {
	clock := clockwork.NewFakeClockAt(enrolled)
	m := newMachine(t, t.TempDir(), clock, newFakeDevice())
	m.mu.Lock()
	for i := range protocol.MaxOnboardingLog + 50 {
		m.logf("line %d", i)
	}
	m.mu.Unlock()
	r := m.Report()
	if len(r.Log) != protocol.MaxOnboardingLog || r.Log[len(r.Log)-1].Message != "line 249" {
		t.Errorf("log: %d lines ending %q; want %d ending with the newest", len(r.Log), r.Log[len(r.Log)-1].Message, protocol.MaxOnboardingLog)
	}
}
