package registration

import (
	"context"
	"errors"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/zap"

	"github.com/mobileatwork/mobileatwork/agent"
	"github.com/mobileatwork/mobileatwork/desktop"
	"github.com/mobileatwork/mobileatwork/executor"
	"github.com/mobileatwork/mobileatwork/internal/localweb"
	"github.com/mobileatwork/mobileatwork/internal/routines"
)

const (
	// consoleEvery is how often the waiting daemon looks for a console
	// user to offer the page to (a login, a fast user switch), as the
	// enrolled daemon does for its pages.
	consoleEvery = 10 * time.Second
	// retryEvery is how often it tries its own way to enroll again (the
	// package's enrollment file, when the server was unreachable).
	retryEvery = time.Minute
)

// Options wire Wait; zero fields get production defaults.
type Options struct {
	StateDir string
	// Enroll enrolls with what the user entered (required).
	Enroll EnrollFunc
	// Retry, when set, is the daemon's own attempt to enroll, made every
	// retryEvery while it waits (agent.EnrollAtStart with the enrollment
	// file); it never runs beside an enrollment of the page.
	Retry func(ctx context.Context)
	// OfferDir is where the page is offered to the console user's session;
	// "" is desktop.DefaultOfferDir.
	OfferDir string
	// ConsoleUser finds the logged-in user; nil is executor.ConsoleUser.
	ConsoleUser func() (executor.User, error)
	// StartUI starts the UI agent in a user's session (desktop.KeeperOptions).
	StartUI func(ctx context.Context, uid int, restart bool) error
	Listen  string          // the page's loopback address; "" picks a free port
	Clock   clockwork.Clock // nil is the real clock
	Log     *zap.Logger
}

// Wait returns once the device is enrolled: at once when it already is,
// else when the user registered it on the page, Retry enrolled it or it
// was enrolled by hand (looked for at each pass). Until
// then it serves the "Register this Mac" page on loopback, from the first
// time a user is at the console (the login window keeps no listener open),
// and offers it to that user's session. It returns ctx's error when ctx
// ends first, and nil for an identity it cannot read, which the daemon then
// reports. The page and its offer are gone when it returns.
func Wait(ctx context.Context, o Options) error {
	if o.Clock == nil {
		o.Clock = clockwork.NewRealClock()
	}
	if o.Log == nil {
		o.Log = zap.NewNop()
	}
	if o.ConsoleUser == nil {
		o.ConsoleUser = executor.ConsoleUser
	}
	if enrolled(o.StateDir) {
		return nil
	}
	page, err := NewPage(o.Enroll, o.Log)
	if err != nil {
		return err
	}
	offer := desktop.NewKeeper(desktop.KeeperOptions{
		Dir: o.OfferDir, ConsoleUser: o.ConsoleUser, StartUI: o.StartUI, Clock: o.Clock, Log: o.Log.Named("ui"),
	})
	g := routines.New(ctx)
	// The offer goes before the page: the user's side never opens a page
	// that stopped.
	defer g.Close()
	defer offer.Close()
	o.Log.Info("this Mac is not registered: waiting for its registration on the \"Register this Mac\" page")
	served := false
	lastRetry := o.Clock.Now()
	for {
		if !served && hasConsoleUser(o.ConsoleUser) {
			served = serve(g, page, offer, o)
		}
		offer.Refresh(ctx)
		t := o.Clock.NewTimer(consoleEvery)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-page.Done():
			t.Stop()
			return nil
		case <-t.Chan():
		}
		if o.Retry != nil && o.Clock.Since(lastRetry) >= retryEvery {
			lastRetry = o.Clock.Now()
			page.Exclusive(func() { o.Retry(ctx) })
		}
		// Enrolled by Retry, or by `mobileatwork enroll` run meanwhile.
		if enrolled(o.StateDir) {
			return nil
		}
	}
}

// serve starts the page on loopback and offers it; false when it cannot
// be served now (the next pass tries again).
func serve(g *routines.Group, page *Page, offer *desktop.OfferKeeper, o Options) bool {
	srv, err := localweb.New(page.Handler(), localweb.Options{Listen: o.Listen})
	if err != nil {
		o.Log.Warn("registration page not served", zap.Error(err))
		return false
	}
	g.Go(func(ctx context.Context) {
		if err := srv.Serve(ctx); err != nil {
			o.Log.Warn("registration page", zap.Error(err))
		}
	})
	offer.SetRegistration(g.Context(), srv.URL())
	o.Log.Info("registration page served on loopback", zap.String("addr", srv.Addr().String()))
	return true
}

func hasConsoleUser(consoleUser func() (executor.User, error)) bool {
	_, err := consoleUser()
	return err == nil
}

// enrolled reports whether the state directory holds an identity; one it
// cannot read counts as enrolled, so that the daemon says what is wrong.
func enrolled(stateDir string) bool {
	_, err := agent.LoadIdentity(stateDir)
	return !errors.Is(err, agent.ErrNotEnrolled)
}
