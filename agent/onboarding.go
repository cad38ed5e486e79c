package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/zap"

	"github.com/mobileatwork/mobileatwork/agent/installer"
	"github.com/mobileatwork/mobileatwork/agent/managed"
	"github.com/mobileatwork/mobileatwork/internal/localweb"
	"github.com/mobileatwork/mobileatwork/internal/routines"
	"github.com/mobileatwork/mobileatwork/inventory"
	"github.com/mobileatwork/mobileatwork/onboarding"
	"github.com/mobileatwork/mobileatwork/protocol"
)

const (
	// onboardingTick is how often a running onboarding looks at the device.
	onboardingTick = 3 * time.Second
	// pageRefresh is how often the progress page's offer is written again
	// for the console user, who may have changed.
	pageRefresh = 5 * time.Second
	// pageGrace keeps the page up after the end, so the kiosk and the
	// browser show the outcome before the page goes.
	pageGrace = 15 * time.Second
	// maxOnboardingAnswer bounds the server's acknowledgement.
	maxOnboardingAnswer = 64 << 10
	// maxPackage bounds an in-house PKG download, as Apps@Work does.
	maxPackage = 8 << 30
)

// onboardingReceiver feeds each verified plan to the onboarding machine
// and, while onboarding runs, ticks it in the background and serves its
// progress page on loopback for the console user's kiosk.
type onboardingReceiver struct {
	a *Agent

	mu      sync.Mutex
	m       *onboarding.Machine
	running bool
	pageURL string
}

// OnboardingReceiver feeds each verified plan to the onboarding machine
// and runs it, with its progress page, in the background of the check-in
// (a one-shot check-in waits for the installs it started). Register it
// last: when it settles, Apps@Work may be offered.
func OnboardingReceiver(a *Agent) Receiver { return &onboardingReceiver{a: a} }

func (*onboardingReceiver) Name() string { return "onboarding" }

func (r *onboardingReceiver) machine() (*onboarding.Machine, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m != nil {
		return r.m, nil
	}
	a := r.a
	m, err := onboarding.Open(onboarding.Options{
		StateDir: a.o.StateDir, DeviceID: a.id.DeviceID, EnrolledAt: a.id.EnrolledAt,
		Clock: a.o.Clock, Log: a.o.Log.Named("onboarding"),
		Profiles:  onboarding.DefaultProfiles(a.o.InventoryRoot),
		Apps:      inventoryApps{root: a.o.InventoryRoot},
		Fetcher:   assetFetcher{a},
		Installer: managedInstaller{inner: installer.Default(a.o.InventoryRoot), stateDir: a.o.StateDir, clock: a.o.Clock},
		Reporter:  a,
		Opener:    localweb.CommandOpener{Euid: os.Geteuid(), Console: a.localConsoleUser},
	})
	if err != nil {
		return nil, err
	}
	r.m = m
	return m, nil
}

func (r *onboardingReceiver) Receive(ctx context.Context, p *protocol.CheckinPayload) error {
	// Whatever the outcome, the console user's side may now open
	// Apps@Work: an onboarding to run has offered its page by then, and
	// the kiosk comes first.
	defer r.a.onboardingSettled()
	m, err := r.machine()
	if err != nil {
		return err
	}
	m.Resume() // a drain ended with the check-in that asked for it
	if err := m.Update(ctx, p.Onboarding, p.Apps); err != nil {
		return err
	}
	if err := m.Tick(ctx); err != nil {
		return err
	}
	if m.Busy() {
		r.start(ctx, m)
	}
	return nil
}

// start runs the machine in the background, owned by the agent, until it
// has nothing left to do; the check-in loop goes on meanwhile.
func (r *onboardingReceiver) start(ctx context.Context, m *onboarding.Machine) {
	r.mu.Lock()
	if r.running {
		r.mu.Unlock()
		return
	}
	r.running = true
	r.mu.Unlock()
	// The loop and the page end with the check-in's context or Close.
	ctx, cancel := r.a.owned(ctx)
	// The page is offered before Receive returns, so that the offer of
	// Apps@Work that follows never comes alone while onboarding runs.
	stopPage := func() {}
	if m.Report().State == protocol.OnboardingRunning {
		stopPage = r.servePage(ctx, m)
	}
	stopped := func() {
		stopPage()
		cancel()
		r.mu.Lock()
		r.running = false
		r.mu.Unlock()
	}
	if !r.a.spawn(ctx, func(ctx context.Context) {
		defer stopped()
		m.Run(ctx, onboardingTick)
	}) {
		stopped() // the agent is closed
	}
}

// drainEvery is how often a one-shot check-in says it still waits for an
// install.
const drainEvery = 15 * time.Second

// drain stops new onboarding installs and waits for those in flight,
// saying what it waits for; cancelling ctx (Ctrl-C) stops them, and they
// remove their partial download. The next check-in starts them again.
func (r *onboardingReceiver) drain(ctx context.Context) {
	r.mu.Lock()
	m := r.m
	r.mu.Unlock()
	if m == nil {
		return
	}
	done := m.Drain()
	log := r.a.o.Log.Named("onboarding")
	t := r.a.o.Clock.NewTicker(drainEvery)
	defer t.Stop()
	announced := false
	for {
		if name := m.Installing(); name != "" && !announced {
			log.Info("waiting for an install to finish before exiting (Ctrl-C stops it; the next check-in installs it again)", zap.String("app", name))
			announced = true
		}
		select {
		case <-done:
			return
		case <-ctx.Done():
			<-done // the install sees the same cancellation and cleans up
			return
		case <-t.Chan():
			if name := m.Installing(); name != "" {
				log.Info("still installing", zap.String("app", name))
			}
		}
	}
}

// servePage serves the progress page and offers it to the console user's
// session, now and whenever another user logs in at the console. The
// returned function, called by the onboarding loop that owns the page,
// withdraws it after a grace period (at once when ctx is done) and waits
// for its routines.
func (r *onboardingReceiver) servePage(ctx context.Context, m *onboarding.Machine) (stop func()) {
	log := r.a.o.Log.Named("onboarding")
	page := onboarding.NewPage(m)
	srv, err := localweb.New(page, localweb.Options{})
	if err != nil {
		log.Warn("progress page not served", zap.Error(err))
		return func() {}
	}
	g := routines.New(ctx)
	g.Go(func(ctx context.Context) {
		if err := srv.Serve(ctx); err != nil {
			log.Warn("progress page", zap.Error(err))
		}
	})
	g.Go(page.Publish)
	g.Go(func(ctx context.Context) {
		for routines.Sleep(ctx, r.a.o.Clock, pageRefresh) {
			if !m.Report().Final() {
				r.a.ui.Refresh(ctx)
			}
		}
	})
	r.mu.Lock()
	r.pageURL = srv.URL()
	r.mu.Unlock()
	r.a.ui.SetOnboarding(g.Context(), srv.URL())
	return func() {
		routines.Sleep(ctx, r.a.o.Clock, pageGrace)
		g.Close()
		// The offer goes on with Apps@Work alone, if the daemon serves it:
		// the user's side then opens the catalog the kiosk held back.
		r.a.ui.SetOnboarding(ctx, "")
		r.mu.Lock()
		r.pageURL = ""
		r.mu.Unlock()
	}
}

// OnboardingPageURL is the address, secret included, of the progress page
// the daemon serves while onboarding runs; "" when it serves none.
func (a *Agent) OnboardingPageURL() string {
	for _, rc := range a.registered() {
		if r, ok := rc.(*onboardingReceiver); ok {
			r.mu.Lock()
			defer r.mu.Unlock()
			return r.pageURL
		}
	}
	return ""
}

// ReportOnboarding sends the onboarding progress to the tenant.
func (a *Agent) ReportOnboarding(ctx context.Context, rep protocol.OnboardingReport) error {
	if _, err := do(ctx, a.api.httpClient(), "POST", a.url(protocol.PathOnboarding), rep, maxOnboardingAnswer); err != nil {
		return fmt.Errorf("report onboarding: %w", err)
	}
	return nil
}

func (a *Agent) localConsoleUser() (localweb.ConsoleUser, error) {
	u, err := a.o.ConsoleUser()
	if err != nil {
		return localweb.ConsoleUser{}, err
	}
	return localweb.ConsoleUser{UID: u.UID, Name: u.Name}, nil
}

// assetFetcher downloads an in-house PKG, verified against the digest of
// the signed check-in.
type assetFetcher struct{ a *Agent }

func (f assetFetcher) Fetch(ctx context.Context, as protocol.Asset, dst string) error {
	return f.a.DownloadAsset(ctx, as, maxPackage, dst)
}

// managedInstaller installs a PKG and records the apps it brings as
// managed, so that `uninstall --remove-managed-apps` removes them.
type managedInstaller struct {
	inner    installer.Installer
	stateDir string
	clock    clockwork.Clock
}

func (m managedInstaller) Install(ctx context.Context, pkg string) error {
	comps, err := installer.ReadComponents(pkg)
	if err != nil {
		return err
	}
	if err := m.inner.Install(ctx, pkg); err != nil {
		return err
	}
	var ids []string
	for _, c := range comps {
		ids = append(ids, c.ID)
	}
	var errs []error
	for _, c := range comps {
		for _, p := range c.Apps {
			errs = append(errs, managed.Record(m.stateDir, managed.App{Path: p, PackageIDs: ids, InstalledAt: m.clock.Now().UTC()}))
		}
	}
	return errors.Join(errs...)
}

// inventoryApps observes apps through the agent's inventory.
type inventoryApps struct{ root string }

func (i inventoryApps) InstalledApps(ctx context.Context) (onboarding.Installed, error) {
	rep, err := inventory.Collect(ctx, inventory.Options{Root: i.root})
	if err != nil {
		return onboarding.Installed{}, err
	}
	out := onboarding.Installed{Bundles: map[string]string{}, Packages: map[string]bool{}}
	for _, r := range rep.Receipts {
		out.Packages[r.PackageID] = true
	}
	for _, app := range rep.Apps {
		out.Bundles[app.BundleID] = app.Path
	}
	return out, nil
}
