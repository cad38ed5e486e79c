package agent

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/zap"

	"github.com/mobileatwork/mobileatwork/desktop"
	"github.com/mobileatwork/mobileatwork/executor"
	"github.com/mobileatwork/mobileatwork/internal/localweb"
)

// console is the uid at the console; -1 is the login window.
type console struct{ uid atomic.Int64 }

func (c *console) user() (executor.User, error) {
	uid := c.uid.Load()
	if uid < 0 {
		return executor.User{}, executor.ErrNoConsoleUser
	}
	return executor.User{UID: uint32(uid), Name: "ada"}, nil
}

// fakeCatalog is Apps@Work with a page that answers.
type fakeCatalog struct {
	started  chan struct{} // receives once per Watch
	watching atomic.Int32
	waited   atomic.Bool
}

func (*fakeCatalog) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "Apps@Work") })
}

func (f *fakeCatalog) Watch(ctx context.Context, _ time.Duration) {
	f.watching.Add(1)
	f.started <- struct{}{}
	<-ctx.Done()
	f.watching.Add(-1)
}

func (f *fakeCatalog) Wait() { f.waited.Store(true) }

// uiWorld is an agent serving its pages with the clock in the test's hand;
// starts receives the uid of each UI agent start.
type uiWorld struct {
	a      *Agent
	clock  *clockwork.FakeClock
	user   *console
	page   *fakeCatalog
	starts chan int
}

func newUIWorld(t *testing.T) *uiWorld {
	t.Helper()
	w := &uiWorld{clock: clockwork.NewFakeClock(), user: &console{}, page: &fakeCatalog{started: make(chan struct{}, 4)}, starts: make(chan int, 4)}
	w.user.uid.Store(-1)
	w.a = &Agent{o: Options{Log: zap.NewNop(), ConsoleUser: w.user.user}, id: &Identity{DeviceID: "dev-1"}, catalogPage: w.page, uiWake: make(chan struct{}, 1)}
	w.a.ui = desktop.NewKeeper(desktop.KeeperOptions{
		Dir: t.TempDir(), DeviceID: "dev-1", ConsoleUser: w.user.user, Clock: w.clock,
		StartUI: func(_ context.Context, uid int, _ bool) error { w.starts <- uid; return nil },
	})
	return w
}

// idle returns once serveUI finished its pass and waits for the next.
func (w *uiWorld) idle(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := w.clock.BlockUntilContext(ctx, 1); err != nil {
		t.Fatalf("serveUI never waited for its next look: %v", err)
	}
}

// next returns what ch receives; the daemon's goroutines send it.
func next[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("no %s", what)
		panic("unreachable")
	}
}

func (w *uiWorld) offer() (desktop.Offer, error) {
	return desktop.ReadOffer(w.a.ui.Dir(), os.Geteuid(), "")
}

func TestServeUIServesCatalogOnceAUserIsAtTheConsoleAfterCheckin(t *testing.T) {
	w := newUIWorld(t)
	ctx, cancel := context.WithCancel(t.Context())
	stop := w.a.serveUI(ctx, uiEvery)
	defer stop()

	w.idle(t)
	if u := w.a.CatalogPageURL(); u != "" {
		t.Fatalf("served %s with nobody logged in: no listener until a user is there", u)
	}
	w.user.uid.Store(int64(os.Geteuid()))
	w.clock.Advance(uiEvery)
	w.idle(t)
	if u := w.a.CatalogPageURL(); u != "" {
		t.Fatalf("served %s before a check-in went through onboarding: its kiosk comes first", u)
	}
	w.a.onboardingSettled()
	if uid := next(t, w.starts, "UI agent start"); uid != os.Geteuid() {
		t.Errorf("UI agent started for %d, want %d", uid, os.Geteuid())
	}
	next(t, w.page.started, "catalog watcher")
	s, err := w.offer()
	if err != nil {
		t.Fatalf("Apps@Work not offered: %v", err)
	}
	if s.CatalogURL != w.a.CatalogPageURL() || s.DeviceID != "dev-1" || s.Onboarding() {
		t.Errorf("offer = %+v, want the served page %s alone", s, w.a.CatalogPageURL())
	}
	if err := localweb.Probe(ctx, s.CatalogURL); err != nil {
		t.Errorf("offered page does not answer: %v", err)
	}
	w.idle(t)
	w.clock.Advance(uiEvery) // a look that finds nothing new starts nothing
	w.idle(t)
	if len(w.starts) != 0 || w.page.watching.Load() != 1 {
		t.Errorf("after a quiet look: %d more UI agent starts, %d watchers; want none and 1", len(w.starts), w.page.watching.Load())
	}

	cancel()
	stop()
	if _, err := w.offer(); !errors.Is(err, desktop.ErrNoOffer) {
		t.Errorf("offer left behind at shutdown: %v", err)
	}
	if err := localweb.Probe(context.Background(), s.CatalogURL); !errors.Is(err, localweb.ErrPageDown) {
		t.Errorf("page still answers after shutdown: %v", err)
	}
	if w.page.watching.Load() != 0 || !w.page.waited.Load() || w.a.CatalogPageURL() != "" {
		t.Errorf("shutdown: watchers %d, waited %v, url %q", w.page.watching.Load(), w.page.waited.Load(), w.a.CatalogPageURL())
	}
}

// Apps@Work comes right after the check-in, not at the next look for a
// console user; stopping serveUI without the daemon's context ending takes
// the page and the offer down all the same.
func TestServeUIWakesAfterCheckin(t *testing.T) {
	w := newUIWorld(t)
	w.user.uid.Store(int64(os.Geteuid()))
	stop := w.a.serveUI(t.Context(), time.Hour)
	defer stop()
	w.idle(t)
	if u := w.a.CatalogPageURL(); u != "" {
		t.Fatalf("served %s before the check-in", u)
	}
	w.a.onboardingSettled()
	w.a.onboardingSettled() // later check-ins change nothing
	// The clock never moves: the check-in wakes serveUI.
	next(t, w.starts, "UI agent start")
	s, err := w.offer()
	if err != nil || s.CatalogURL == "" || s.CatalogURL != w.a.CatalogPageURL() {
		t.Fatalf("Apps@Work not offered after the check-in: url %q, offer %+v, %v", w.a.CatalogPageURL(), s, err)
	}
	w.idle(t)
	if len(w.starts) != 0 {
		t.Errorf("a second check-in started the UI agent again")
	}

	stop()
	if _, err := w.offer(); !errors.Is(err, desktop.ErrNoOffer) {
		t.Errorf("offer left behind after stop: %v", err)
	}
	if err := localweb.Probe(context.Background(), s.CatalogURL); !errors.Is(err, localweb.ErrPageDown) {
		t.Errorf("page still answers after stop: %v", err)
	}
}
