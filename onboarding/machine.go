package onboarding

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/zap"

	"github.com/mobileatwork/mobileatwork/internal/atomicfile"
	"github.com/mobileatwork/mobileatwork/internal/routines"
	"github.com/mobileatwork/mobileatwork/protocol"
)

// Files of the state directory.
const (
	StateFile    = "onboarding.json"
	downloadsDir = "onboarding-downloads"
)

// Documented defaults, used until a plan says otherwise.
const (
	DefaultWindow       = 20 * time.Minute
	DefaultSetupTimeout = 120 * time.Second
)

// stateVersion is bumped on an incompatible change of the state file.
const stateVersion = 1

// reportEvery is how often an unchanged state is reported again, so the
// tenant hears that the device is still working.
const reportEvery = 30 * time.Second

// ErrStateVersion is returned for a state file of another format.
var ErrStateVersion = errors.New("unsupported onboarding state version")

// state is what the machine persists.
type state struct {
	Version       int                          `json:"version"`
	State         string                       `json:"state"`
	WindowMinutes int                          `json:"window_minutes,omitempty"`
	StartedAt     time.Time                    `json:"started_at,omitzero"`
	Deadline      time.Time                    `json:"deadline,omitzero"`
	EndedAt       time.Time                    `json:"ended_at,omitzero"`
	LandingURL    string                       `json:"landing_url,omitempty"`
	LandingOpened bool                         `json:"landing_opened,omitempty"`
	Stages        []stage                      `json:"stages"`
	Background    []item                       `json:"background"`
	Log           []protocol.OnboardingLogLine `json:"log"`
}

// Options wire a Machine. Observers, Fetcher, Installer, Reporter and
// Opener may be nil: the machine then does without (nothing observed,
// in-house apps fail with a clear error, nothing reported or opened).
type Options struct {
	StateDir   string
	DeviceID   string
	EnrolledAt time.Time       // registration; the window counts from here
	Clock      clockwork.Clock // nil is the real clock
	Log        *zap.Logger

	Profiles  ProfileObserver
	Apps      AppObserver
	Fetcher   Fetcher
	Installer Installer
	Reporter  Reporter
	Opener    Opener
}

// Machine is the onboarding state machine. It is safe for concurrent use:
// the agent feeds it plans, the page reads it, installs finish in the
// background.
type Machine struct {
	o Options

	mu          sync.Mutex
	st          state
	installing  string // id of the item being installed, "" when none
	changed     chan struct{}
	lastReport  time.Time
	reportDirty bool
	toReport    *protocol.OnboardingReport
	reportMu    sync.Mutex // one report at a time, in order
	installs    sync.WaitGroup
	// draining stops new installs from starting: a one-shot check-in waits
	// for the installs in flight, then exits.
	draining bool
}

// Open loads the machine's state from the state directory; a missing file
// is a fresh, pending onboarding.
func Open(o Options) (*Machine, error) {
	if o.Clock == nil {
		o.Clock = clockwork.NewRealClock()
	}
	if o.Log == nil {
		o.Log = zap.NewNop()
	}
	m := &Machine{o: o, changed: make(chan struct{}), reportDirty: true}
	st, err := LoadState(o.StateDir)
	if err != nil {
		return nil, err
	}
	m.st = st
	return m, nil
}

// LoadState reads the persisted state; a missing file is pending.
func LoadState(stateDir string) (state, error) {
	var st state
	err := atomicfile.ReadJSON(filepath.Join(stateDir, StateFile), &st)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return state{Version: stateVersion, State: protocol.OnboardingPending}, nil
	case err != nil:
		return state{}, fmt.Errorf("read onboarding state: %w", err)
	case st.Version != stateVersion:
		return state{}, fmt.Errorf("read onboarding state: %w %d (want %d)", ErrStateVersion, st.Version, stateVersion)
	}
	return st, nil
}

// ReadReport reads the persisted progress of the onboarding in stateDir,
// for `mobileatwork onboarding status` and the page served outside the
// daemon.
func ReadReport(stateDir string) (protocol.OnboardingReport, error) {
	st, err := LoadState(stateDir)
	if err != nil {
		return protocol.OnboardingReport{}, err
	}
	return st.report(""), nil
}

func (m *Machine) window() time.Duration {
	if m.st.WindowMinutes > 0 {
		return time.Duration(m.st.WindowMinutes) * time.Minute
	}
	return DefaultWindow
}

// Update hands the machine the latest verified plan and app offers. A
// pending onboarding starts when the plan is enabled and the window since
// registration has not elapsed, and is skipped once it has: onboarding
// never starts late. A running or finished onboarding keeps its stages: a
// plan that changes under the user would move the goal posts.
func (m *Machine) Update(ctx context.Context, plan *protocol.OnboardingPlan, apps []protocol.AppOffer) error {
	err := m.update(ctx, plan, apps)
	m.sendReport(ctx)
	return err
}

func (m *Machine) update(ctx context.Context, plan *protocol.OnboardingPlan, apps []protocol.AppOffer) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.st.State != protocol.OnboardingPending {
		return nil
	}
	now := m.o.Clock.Now()
	if plan != nil && plan.WindowMinutes > 0 {
		m.st.WindowMinutes = plan.WindowMinutes
	}
	if m.o.EnrolledAt.IsZero() || now.Sub(m.o.EnrolledAt) >= m.window() {
		m.logf("onboarding skipped: registered at %s, more than %s ago", m.o.EnrolledAt.UTC().Format(time.RFC3339), m.window())
		m.st.State, m.st.EndedAt = protocol.OnboardingSkipped, now.UTC()
		return m.commit(ctx)
	}
	if plan == nil || !plan.Enabled {
		return nil // the tenant may still enable it within the window
	}
	timeout := time.Duration(plan.SetupTimeoutSeconds) * time.Second
	if timeout <= 0 {
		timeout = DefaultSetupTimeout
	}
	m.st.Stages, m.st.Background = buildStages(*plan, apps)
	m.st.State, m.st.StartedAt, m.st.Deadline = protocol.OnboardingRunning, now.UTC(), now.Add(timeout).UTC()
	m.st.LandingURL = plan.LandingURL
	m.logf("onboarding started: %d stage(s), %d background app(s), setup timeout %s", len(m.st.Stages), len(m.st.Background), timeout)
	return m.commit(ctx)
}

// Tick advances the machine once: observe what is installed, start the
// next in-house install, finish the onboarding when every stage is settled
// or the setup timeout passed, persist and report.
func (m *Machine) Tick(ctx context.Context) error {
	err := m.tick(ctx)
	m.sendReport(ctx)
	return err
}

func (m *Machine) tick(ctx context.Context) error {
	profiles, apps := m.observe(ctx)
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.o.Clock.Now()
	if m.st.State == protocol.OnboardingPending {
		if !m.o.EnrolledAt.IsZero() && now.Sub(m.o.EnrolledAt) >= m.window() {
			m.logf("onboarding skipped: no plan within %s of registration", m.window())
			m.st.State, m.st.EndedAt = protocol.OnboardingSkipped, now.UTC()
			return m.commit(ctx)
		}
		return nil
	}
	m.each(func(it *item) {
		if it.Status == protocol.ItemInstalled {
			return
		}
		seen := it.Kind == protocol.ItemKindProfile && profiles[it.Identifier] ||
			it.BundleID != "" && apps.Bundles[it.BundleID] != "" ||
			it.PackageID != "" && apps.Packages[it.PackageID]
		if seen && it.ID != m.installing {
			m.setStatus(it, protocol.ItemInstalled, "")
		}
	})
	m.startNextInstall(ctx)
	if m.st.State == protocol.OnboardingRunning {
		switch p := m.st.progress(); {
		case p.StagesSettled == p.StagesTotal:
			m.finish(ctx, protocol.OnboardingDone, "onboarding done: every stage is installed or installing")
		case !now.Before(m.st.Deadline):
			m.finish(ctx, protocol.OnboardingTimedOut, "setup timeout reached: remaining apps keep installing in the background")
		}
	}
	return m.commit(ctx)
}

// observe asks the observers, outside the lock: `profiles` and an
// inventory walk take a while.
func (m *Machine) observe(ctx context.Context) (map[string]bool, Installed) {
	m.mu.Lock()
	needProfiles, needApps := false, false
	m.each(func(it *item) {
		if it.Status != protocol.ItemInstalled {
			needProfiles = needProfiles || it.Kind == protocol.ItemKindProfile
			needApps = needApps || it.Kind != protocol.ItemKindProfile
		}
	})
	m.mu.Unlock()
	profiles, apps := map[string]bool{}, Installed{}
	if needProfiles && m.o.Profiles != nil {
		p, err := m.o.Profiles.InstalledProfiles(ctx)
		if err != nil {
			m.o.Log.Warn("list installed profiles", zap.Error(err))
		} else {
			profiles = p
		}
	}
	if needApps && m.o.Apps != nil {
		a, err := m.o.Apps.InstalledApps(ctx)
		if err != nil {
			m.o.Log.Warn("read inventory", zap.Error(err))
		} else {
			apps = a
		}
	}
	return profiles, apps
}

// each visits every item, stages first.
func (m *Machine) each(fn func(*item)) {
	for s := range m.st.Stages {
		for i := range m.st.Stages[s].Items {
			fn(&m.st.Stages[s].Items[i])
		}
	}
	for i := range m.st.Background {
		fn(&m.st.Background[i])
	}
}

func (m *Machine) setStatus(it *item, status, errText string) {
	if it.Status == status && it.Error == errText {
		return
	}
	it.Status, it.Error = status, errText
	switch status {
	case protocol.ItemInstalled:
		m.logf("%s %q installed", it.Kind, it.Name)
	case protocol.ItemFailed:
		m.logf("%s %q failed: %s", it.Kind, it.Name, errText)
	case protocol.ItemInstalling:
		m.logf("installing %q", it.Name)
	}
}

// startNextInstall starts one in-house install at a time: stage apps in
// stage order, then background apps. An item left "installing" by a
// restart is installed again: installer(8) reinstalls idempotently.
func (m *Machine) startNextInstall(ctx context.Context) {
	if m.installing != "" || m.draining {
		return
	}
	var next *item
	m.each(func(it *item) {
		if next == nil && it.installable() && (it.Status == protocol.ItemPending || it.Status == protocol.ItemInstalling) {
			next = it
		}
	})
	if next == nil {
		return
	}
	m.setStatus(next, protocol.ItemInstalling, "")
	m.installing = next.ID
	job := *next
	// Owned by m.installs: Run and Drain wait for it before they return.
	m.installs.Go(func() {
		err := m.install(ctx, job)
		m.finishInstall(ctx, job, err)
		m.sendReport(ctx)
	})
}

// finishInstall records the outcome of an install.
func (m *Machine) finishInstall(ctx context.Context, job item, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.installing = ""
	if ctx.Err() != nil {
		// The agent is stopping: the item stays "installing" in the saved
		// state and the next start installs it again.
		return
	}
	m.each(func(it *item) {
		if it.ID != job.ID || it.Kind != job.Kind {
			return
		}
		if err != nil {
			m.setStatus(it, protocol.ItemFailed, err.Error())
		} else {
			m.setStatus(it, protocol.ItemInstalled, "")
		}
	})
	if cerr := m.commit(ctx); cerr != nil {
		m.o.Log.Warn("save onboarding state", zap.Error(cerr))
	}
}

// install downloads the package, verified against the signed plan, then
// installs it. The download is removed either way.
func (m *Machine) install(ctx context.Context, it item) error {
	if m.o.Fetcher == nil || m.o.Installer == nil {
		return fmt.Errorf("install %s: no package installer on this device", it.Name)
	}
	dir := filepath.Join(m.o.StateDir, downloadsDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("install %s: %w", it.Name, err)
	}
	dst := filepath.Join(dir, safeName(it.ID)+".pkg")
	defer os.Remove(dst)
	if err := m.o.Fetcher.Fetch(ctx, *it.Package, dst); err != nil {
		return fmt.Errorf("download %s: %w", it.Name, err)
	}
	if err := m.o.Installer.Install(ctx, dst); err != nil {
		return fmt.Errorf("install %s: %w", it.Name, err)
	}
	return nil
}

// safeName keeps an id usable as a file name whatever the server sent.
func safeName(id string) string {
	b := []byte(id)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			b[i] = '_'
		}
	}
	if len(b) == 0 || len(b) > 64 {
		return "package"
	}
	return string(b)
}

// finish ends the onboarding and opens the landing page once.
func (m *Machine) finish(ctx context.Context, final, msg string) {
	m.st.State, m.st.EndedAt = final, m.o.Clock.Now().UTC()
	m.logf("%s", msg)
	if m.st.LandingURL == "" || m.st.LandingOpened || m.o.Opener == nil {
		return
	}
	if err := m.o.Opener.Open(ctx, m.st.LandingURL); err != nil {
		m.logf("landing page not opened: %v", err)
		return
	}
	m.st.LandingOpened = true
	m.logf("landing page opened: %s", m.st.LandingURL)
}

// logf appends a line to the bounded log that the tenant sees.
func (m *Machine) logf(format string, args ...any) {
	// One line per entry: tools such as xdg-open explain failures over
	// several lines.
	msg := strings.Join(strings.Fields(fmt.Sprintf(format, args...)), " ")
	msg = protocol.Clip(msg, protocol.MaxOnboardingString)
	m.o.Log.Info(msg)
	m.st.Log = append(m.st.Log, protocol.OnboardingLogLine{At: m.o.Clock.Now().UTC(), Message: msg})
	if over := len(m.st.Log) - protocol.MaxOnboardingLog; over > 0 {
		m.st.Log = slices.Delete(m.st.Log, 0, over)
	}
	m.reportDirty = true
}

// commit persists the state, wakes the page and queues a report for the
// tenant, which sendReport sends once the lock is released: the network
// must never hold up the page or the state machine. Called with m.mu held.
func (m *Machine) commit(ctx context.Context) error {
	if m.reportDirty {
		// Every change logs a line, so an unchanged state is not written
		// again: a finished onboarding costs no disk write per check-in.
		m.st.Version = stateVersion
		if err := atomicfile.WriteJSON(filepath.Join(m.o.StateDir, StateFile), m.st, 0o600); err != nil {
			return fmt.Errorf("save onboarding state: %w", err)
		}
		close(m.changed)
		m.changed = make(chan struct{})
	}
	if m.o.Reporter != nil && (m.reportDirty || m.o.Clock.Now().Sub(m.lastReport) >= reportEvery) {
		r := m.st.report(m.o.DeviceID)
		m.toReport = &r
	}
	m.reportDirty = false
	return nil
}

// sendReport sends the queued report, if any. Reporting is best effort:
// progress on the device never waits for the network, and a failed report
// is sent again at the next tick.
func (m *Machine) sendReport(ctx context.Context) {
	m.reportMu.Lock()
	defer m.reportMu.Unlock()
	m.mu.Lock()
	r := m.toReport
	m.toReport = nil
	m.mu.Unlock()
	if r == nil {
		return
	}
	if err := m.o.Reporter.ReportOnboarding(ctx, *r); err != nil {
		m.o.Log.Info("onboarding progress not reported", zap.Error(err))
		m.mu.Lock()
		m.reportDirty = true
		m.mu.Unlock()
		return
	}
	m.mu.Lock()
	m.lastReport = m.o.Clock.Now()
	m.mu.Unlock()
}

// Report is the current progress.
func (m *Machine) Report() protocol.OnboardingReport {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.st.report(m.o.DeviceID)
}

// Changed returns a channel closed at the next change of the progress.
func (m *Machine) Changed() <-chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.changed
}

// Busy reports whether the machine has work a loop should keep ticking
// for: a running onboarding, or in-house apps still to install.
func (m *Machine) Busy() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.st.State == protocol.OnboardingRunning || m.installing != "" {
		return true
	}
	busy := false
	if m.st.State != protocol.OnboardingSkipped {
		m.each(func(it *item) {
			busy = busy || it.installable() && (it.Status == protocol.ItemPending || it.Status == protocol.ItemInstalling)
		})
	}
	return busy
}

// Wait blocks until installs in flight have finished.
func (m *Machine) Wait() { m.installs.Wait() }

// Drain stops new installs from starting and returns a channel closed when
// the ones in flight have finished; Resume starts them again. A process
// that is about to exit drains first, so it never leaves an install half
// done (a partial download, an item "installing" for good).
func (m *Machine) Drain() <-chan struct{} {
	m.mu.Lock()
	m.draining = true
	m.mu.Unlock()
	done := make(chan struct{})
	// Ends with the last install in flight, which the caller waits for.
	go func() { m.installs.Wait(); close(done) }()
	return done
}

// Resume undoes Drain.
func (m *Machine) Resume() {
	m.mu.Lock()
	m.draining = false
	m.mu.Unlock()
}

// Installing names the install in flight, if any.
func (m *Machine) Installing() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.installing
}

// Run ticks every interval while the machine is Busy or ctx is done.
func (m *Machine) Run(ctx context.Context, every time.Duration) {
	for {
		if err := m.Tick(ctx); err != nil {
			m.o.Log.Warn("onboarding", zap.Error(err))
		}
		if !m.Busy() {
			m.Wait()
			if err := m.Tick(ctx); err != nil { // persist and report the last install
				m.o.Log.Warn("onboarding", zap.Error(err))
			}
			return
		}
		if !routines.Sleep(ctx, m.o.Clock, every) {
			// Installs see the same context: let them clean up (remove
			// their partial download) before the loop's owner moves on.
			m.Wait()
			return
		}
	}
}

// report renders the state for the page, the CLI and the tenant.
func (st state) report(deviceID string) protocol.OnboardingReport {
	p := st.progress()
	r := protocol.OnboardingReport{
		DeviceID: deviceID, State: st.State, StartedAt: st.StartedAt, Deadline: st.Deadline, EndedAt: st.EndedAt,
		LandingURL: st.LandingURL, Stages: []protocol.OnboardingStage{}, Background: []protocol.OnboardingItem{},
		Log: slices.Clone(st.Log), Progress: &p,
	}
	if len(p.NowInstalling) > 0 {
		r.Current = p.NowInstalling[0]
	}
	for _, s := range st.Stages {
		ps := protocol.OnboardingStage{Name: s.Name, Status: s.status(), Items: make([]protocol.OnboardingItem, 0, len(s.Items))}
		for _, it := range s.Items {
			ps.Items = append(ps.Items, it.OnboardingItem)
		}
		r.Stages = append(r.Stages, ps)
	}
	for _, it := range st.Background {
		r.Background = append(r.Background, it.OnboardingItem)
	}
	return r
}
