package agent

import (
	"context"
	"errors"
	"net/http"
	"os"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/mobileatwork/mobileatwork/executor"
	"github.com/mobileatwork/mobileatwork/internal/localweb"
	"github.com/mobileatwork/mobileatwork/onboarding"
)

// The daemon shows nothing itself: it runs as root, without a window
// server connection. It serves its pages (onboarding progress, Apps@Work)
// on loopback and offers their addresses to the console user through the
// per-user, per-boot file of onboarding.WriteUISession; the UI LaunchAgent,
// in that user's GUI login, reads the offer and opens the right window.

// CatalogPage is Apps@Work as the daemon serves it; *appcatalog.Service is
// one. It is an interface because appcatalog builds on this package.
type CatalogPage interface {
	Handler() http.Handler
	// Watch publishes changes to open pages until ctx is done.
	Watch(ctx context.Context, every time.Duration)
	// Wait blocks until installs in progress end.
	Wait()
}

const (
	// uiEvery is how often the daemon looks for a console user to offer
	// its pages to (a login, a fast user switch).
	uiEvery = 10 * time.Second
	// catalogWatchEvery is how often the served catalog looks for changes
	// to push to an open page; each look reads the inventory, hence not
	// more often.
	catalogWatchEvery = 30 * time.Second
)

// uiOffer keeps the console user's offer file in step with the pages the
// daemon serves: it is the file's only writer, so the onboarding page and
// the catalog never overwrite each other's address.
type uiOffer struct {
	dir      string
	deviceID string
	now      func() time.Time
	console  func() (executor.User, error)
	// startUI starts the UI LaunchAgent in uid's GUI login, so that a new
	// offer is acted upon now rather than at the next login; with restart,
	// it replaces what the agent shows (an onboarding begins while
	// Apps@Work is open: the kiosk comes first).
	startUI func(ctx context.Context, uid int, restart bool) error
	log     *zap.Logger

	mu         sync.Mutex
	onboarding string // progress page URL, "" when none
	catalog    string // Apps@Work URL, "" when not served
	uid        int    // the user holding the file; -1 for none
	written    onboarding.UISession
	closed     bool
}

func newUIOffer(a *Agent, dir string) *uiOffer {
	return &uiOffer{
		dir: dir, deviceID: a.id.DeviceID, now: a.o.Clock.Now, console: a.o.ConsoleUser,
		startUI: startUIAgent, log: a.o.Log.Named("ui"), uid: -1,
	}
}

func startUIAgent(ctx context.Context, uid int, restart bool) error {
	if restart {
		return onboarding.RestartUIAgent(ctx, uid)
	}
	return onboarding.StartUIAgent(ctx, uid)
}

// setOnboarding offers (or, with "", withdraws) the progress page.
func (o *uiOffer) setOnboarding(ctx context.Context, url string) {
	o.mu.Lock()
	o.onboarding = url
	o.mu.Unlock()
	o.refresh(ctx)
}

// setCatalog offers (or, with "", withdraws) Apps@Work.
func (o *uiOffer) setCatalog(ctx context.Context, url string) {
	o.mu.Lock()
	o.catalog = url
	o.mu.Unlock()
	o.refresh(ctx)
}

// refresh writes the offer for the current console user, moving it from
// the previous one after a user switch, and starts that user's UI agent
// whenever the offer changes. With nothing to offer, the file goes.
func (o *uiOffer) refresh(ctx context.Context) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed || (o.onboarding == "" && o.catalog == "") {
		o.removeLocked()
		return
	}
	u, err := o.console()
	if err != nil {
		// The login window, or nobody: keep the offer of the last user,
		// who finds it on coming back.
		if !errors.Is(err, executor.ErrNoConsoleUser) {
			o.log.Debug("no console user", zap.Error(err))
		}
		return
	}
	uid := int(u.UID)
	if uid == o.uid && o.written.URL == o.onboarding && o.written.CatalogURL == o.catalog {
		return
	}
	// A kiosk for a page this user does not see yet replaces whatever the
	// UI agent shows; other changes leave a running UI agent alone.
	restart := o.onboarding != "" && (uid != o.uid || o.written.URL != o.onboarding)
	if uid != o.uid {
		o.removeLocked()
	}
	boot, _ := onboarding.BootID()
	s := onboarding.UISession{
		URL: o.onboarding, CatalogURL: o.catalog, DeviceID: o.deviceID,
		BootID: boot, PID: os.Getpid(), WrittenAt: o.now().UTC(),
	}
	if err := onboarding.WriteUISession(o.dir, uid, s); err != nil {
		o.log.Warn("pages not offered to the console user", zap.Error(err))
		return
	}
	o.uid, o.written = uid, s
	if err := o.startUI(ctx, uid, restart); err != nil {
		o.log.Info("UI agent not started; it starts at the next login", zap.Error(err))
	}
}

// close withdraws the offer for good: the daemon stops and its pages with
// it. Later calls change nothing.
func (o *uiOffer) close() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.closed = true
	o.onboarding, o.catalog = "", ""
	o.removeLocked()
}

func (o *uiOffer) removeLocked() {
	if o.uid < 0 {
		return
	}
	if err := onboarding.RemoveUISession(o.dir, o.uid); err != nil {
		o.log.Warn("offer not withdrawn", zap.Error(err))
	}
	o.uid, o.written = -1, onboarding.UISession{}
}

// onboardingSettled records that a check-in went through onboarding and
// wakes serveUI.
func (a *Agent) onboardingSettled() {
	if a.settled.Swap(true) {
		return
	}
	select {
	case a.uiWake <- struct{}{}:
	default:
	}
}

// serveUI offers the daemon's pages to the console user until ctx is done.
// It serves Apps@Work from the first time a user is at the console after a
// check-in went through onboarding: a Mac at the login window or in Setup
// Assistant keeps no listener open, and an onboarding to run is offered
// before the catalog, so its kiosk comes first. The console user is looked
// for every `every`. The returned function waits for the page server to
// stop.
func (a *Agent) serveUI(ctx context.Context, every time.Duration) (wait func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		var stopCatalog func()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			if stopCatalog == nil && a.catalogPage != nil && a.settled.Load() && a.hasConsoleUser() {
				stopCatalog = a.serveCatalog(ctx)
			}
			a.ui.refresh(ctx)
			select {
			case <-ctx.Done():
				a.ui.close()
				if stopCatalog != nil {
					stopCatalog()
				}
				return
			case <-t.C:
			case <-a.uiWake:
			}
		}
	}()
	return func() { <-done }
}

// hasConsoleUser reports whether a user is logged in at the console; at
// the login window and in Setup Assistant, ConsoleUser says nobody is.
func (a *Agent) hasConsoleUser() bool {
	_, err := a.o.ConsoleUser()
	return err == nil
}

// serveCatalog starts Apps@Work on loopback and offers it; the returned
// function, called once ctx is done, waits for the server and the installs
// in progress to end. It returns a no-op when the page cannot be served
// (the daemon goes on without it).
func (a *Agent) serveCatalog(ctx context.Context) func() {
	log := a.o.Log.Named("catalog")
	srv, err := localweb.New(a.catalogPage.Handler(), localweb.Options{})
	if err != nil {
		log.Warn("Apps@Work not served", zap.Error(err))
		return func() {}
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		if err := srv.Serve(ctx); err != nil {
			log.Warn("Apps@Work page", zap.Error(err))
		}
	}()
	go func() {
		defer wg.Done()
		a.catalogPage.Watch(ctx, catalogWatchEvery)
	}()
	a.catalogURL.Store(srv.URL())
	a.ui.setCatalog(ctx, srv.URL())
	log.Info("Apps@Work served on loopback", zap.String("addr", srv.Addr().String()))
	return func() {
		wg.Wait()
		a.catalogPage.Wait()
		a.catalogURL.Store("")
	}
}

// CatalogPageURL is the address, secret included, of Apps@Work as the
// daemon serves it; "" when it serves none.
func (a *Agent) CatalogPageURL() string {
	s, _ := a.catalogURL.Load().(string)
	return s
}
