package agent

import (
	"context"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/mobileatwork/mobileatwork/desktop"
	"github.com/mobileatwork/mobileatwork/internal/localweb"
	"github.com/mobileatwork/mobileatwork/internal/routines"
)

// The daemon shows nothing itself: it serves its pages on loopback and
// offers them to the console user through a desktop.OfferKeeper, the offer
// file's only writer.

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

func newUIOffer(a *Agent, dir string) *desktop.OfferKeeper {
	return desktop.NewKeeper(desktop.KeeperOptions{
		Dir: dir, DeviceID: a.id.DeviceID, ConsoleUser: a.o.ConsoleUser, Clock: a.o.Clock, Log: a.o.Log.Named("ui"),
	})
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

// serveUI offers the daemon's pages to the console user until ctx is done
// or the returned function is called; that function waits for the page
// server to stop. It serves Apps@Work from the first time a user is at the
// console after a check-in went through onboarding: a Mac at the login
// window or in Setup Assistant keeps no listener open, and an onboarding to
// run is offered before the catalog, so its kiosk comes first. The console
// user is looked for every `every` on the offer's clock.
func (a *Agent) serveUI(ctx context.Context, every time.Duration) (stop func()) {
	g := routines.New(ctx)
	g.Go(func(ctx context.Context) {
		clock := a.ui.Clock()
		var stopCatalog func()
		for {
			if stopCatalog == nil && a.catalogPage != nil && a.settled.Load() && a.hasConsoleUser() {
				stopCatalog = a.serveCatalog(ctx)
			}
			a.ui.Refresh(ctx)
			// A timer per pass, not a ticker: the next look is `every`
			// after this one ended, and a pass is done once it waits.
			t := clock.NewTimer(every)
			select {
			case <-ctx.Done():
				t.Stop()
				a.ui.Close()
				if stopCatalog != nil {
					stopCatalog()
				}
				return
			case <-t.Chan():
			case <-a.uiWake:
				t.Stop()
			}
		}
	})
	return g.Close
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
	g := routines.New(ctx)
	g.Go(func(ctx context.Context) {
		if err := srv.Serve(ctx); err != nil {
			log.Warn("Apps@Work page", zap.Error(err))
		}
	})
	g.Go(func(ctx context.Context) { a.catalogPage.Watch(ctx, catalogWatchEvery) })
	a.catalogURL.Store(srv.URL())
	a.ui.SetCatalog(ctx, srv.URL())
	log.Info("Apps@Work served on loopback", zap.String("addr", srv.Addr().String()))
	return func() {
		g.Close()
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
