package registration

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/zap"

	"github.com/mobileatwork/mobileatwork/agent"
	"github.com/mobileatwork/mobileatwork/agent/managedpref"
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
	// managedFirst and managedMost bound the pause between two reads of
	// the managed preference (or two enrollments with it that failed): it
	// doubles from the first to the most.
	managedFirst = consoleEvery
	managedMost  = 5 * time.Minute
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
	// Managed, when set, reads the managed preference
	// (managedpref.Read); while the device waits it is read again with
	// backoff, and the device enrolls with what it gives once it is there:
	// an MDM often sends the profile after the package.
	Managed func() (managedpref.Enrollment, error)
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
// else when the user registered it on the page, Retry or the managed
// preference enrolled it or it was enrolled by hand (looked for at each
// pass). Until
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
	managed := &managedWatch{read: o.Managed, enroll: o.Enroll, log: o.Log}
	for {
		if managed.due(o.Clock.Now()) {
			page.Exclusive(func() { managed.try(ctx, o.Clock.Now()) })
			if enrolled(o.StateDir) {
				return nil
			}
		}
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

// managedWatch reads the managed preference at growing intervals while the
// device waits, and enrolls with it once it is there. It logs a change of
// what it finds, not every read: a Mac may wait for days, quietly.
type managedWatch struct {
	read   func() (managedpref.Enrollment, error)
	enroll EnrollFunc
	log    *zap.Logger
	next   time.Time
	pause  time.Duration
	last   string // what the previous read or enrollment said
}

func (m *managedWatch) due(now time.Time) bool {
	return m.read != nil && !now.Before(m.next)
}

// try reads the preference and enrolls with it; on anything short of an
// enrollment it waits longer before the next read.
func (m *managedWatch) try(ctx context.Context, now time.Time) {
	e, err := m.read()
	if err == nil {
		var id *agent.Identity
		if id, err = m.enroll(ctx, e.ServerURL, e.Token); err == nil {
			m.log.Info("registered with the managed preference", zap.String("device", id.DeviceID), zap.String("server", id.ServerURL))
			return
		}
		err = fmt.Errorf("enroll with the managed preference: %w", err)
	}
	if said := err.Error(); said != m.last {
		m.last = said
		if errors.Is(err, fs.ErrNotExist) {
			m.log.Info("no managed preference yet: looking again now and then", zap.Error(err))
		} else {
			m.log.Warn("the managed preference does not enroll this Mac yet: trying again later", zap.Error(err))
		}
	}
	m.pause = min(max(2*m.pause, managedFirst), managedMost)
	m.next = now.Add(m.pause)
}
