package agent

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/mobileatwork/mobileatwork/executor"
	"github.com/mobileatwork/mobileatwork/internal/localweb"
	"github.com/mobileatwork/mobileatwork/onboarding"
)

// fakeConsole is the user at the console; ErrNoConsoleUser is the login
// window.
type fakeConsole struct {
	mu  sync.Mutex
	uid uint32
	err error
}

func (c *fakeConsole) set(uid uint32, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.uid, c.err = uid, err
}

func (c *fakeConsole) user() (executor.User, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return executor.User{UID: c.uid, Name: "ada"}, c.err
}

// startLog records the UI agent starts: the uid, "!" for a restart.
type startLog struct {
	mu   sync.Mutex
	uids []string
}

func (s *startLog) start(_ context.Context, uid int, restart bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := strconv.Itoa(uid)
	if restart {
		e += "!"
	}
	s.uids = append(s.uids, e)
	return nil
}

func (s *startLog) get() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.uids)
}

// consoleUID is a user the tests can give offer files to: this one, or,
// when the tests run as root, another, to see the file change hands.
func consoleUID() int {
	if uid := os.Geteuid(); uid != 0 {
		return uid
	}
	return 501
}

func newTestOffer(t *testing.T, c *fakeConsole, starts *startLog) *uiOffer {
	t.Helper()
	return &uiOffer{
		dir: t.TempDir(), deviceID: "dev-1", uid: -1,
		now:     func() time.Time { return time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) },
		console: c.user, startUI: starts.start, log: zap.NewNop(),
	}
}

// eventually waits up to 5 s for cond; the assertions after it say what
// was wrong if it never held.
func eventually(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond() && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
}

func readOffer(t *testing.T, o *uiOffer, uid int) (onboarding.UISession, error) {
	t.Helper()
	return onboarding.ReadUISession(o.dir, uid, "")
}

func TestUIOffer(t *testing.T) {
	me := consoleUID()
	ctx := context.Background()

	t.Run("catalog then onboarding share one file", func(t *testing.T) {
		c, starts := &fakeConsole{uid: uint32(me)}, &startLog{}
		o := newTestOffer(t, c, starts)
		o.setCatalog(ctx, "http://127.0.0.1:5001/?s=c")
		s, err := readOffer(t, o, me)
		if err != nil || s.CatalogURL != "http://127.0.0.1:5001/?s=c" || s.Onboarding() || s.DeviceID != "dev-1" {
			t.Fatalf("catalog offer = %+v, %v", s, err)
		}
		o.setOnboarding(ctx, "http://127.0.0.1:5000/?s=p")
		s, err = readOffer(t, o, me)
		if err != nil || s.URL != "http://127.0.0.1:5000/?s=p" || s.CatalogURL == "" {
			t.Fatalf("with onboarding = %+v, %v; want both pages", s, err)
		}
		o.refresh(ctx) // nothing changed: no new start
		o.setOnboarding(ctx, "")
		s, err = readOffer(t, o, me)
		if err != nil || s.Onboarding() || s.CatalogURL == "" {
			t.Fatalf("after onboarding = %+v, %v; want Apps@Work alone", s, err)
		}
		id := strconv.Itoa(me)
		if got, want := starts.get(), []string{id, id + "!", id}; !slices.Equal(got, want) {
			t.Errorf("UI agent starts %q, want %q: once per change, the kiosk replacing Apps@Work", got, want)
		}
		o.close()
		if _, err := readOffer(t, o, me); !errors.Is(err, onboarding.ErrNoSession) {
			t.Errorf("after close: %v, want ErrNoSession", err)
		}
		o.setOnboarding(ctx, "http://127.0.0.1:5000/?s=p")
		if _, err := readOffer(t, o, me); !errors.Is(err, onboarding.ErrNoSession) {
			t.Errorf("offered after close: %v", err)
		}
	})

	t.Run("nothing offered at the login window", func(t *testing.T) {
		c, starts := &fakeConsole{err: executor.ErrNoConsoleUser}, &startLog{}
		o := newTestOffer(t, c, starts)
		o.setCatalog(ctx, "http://127.0.0.1:5001/?s=c")
		if _, err := readOffer(t, o, me); !errors.Is(err, onboarding.ErrNoSession) {
			t.Errorf("offer with nobody logged in: %v", err)
		}
		o.refresh(ctx)
		if len(starts.get()) != 0 {
			t.Errorf("UI agent started for %v with nobody logged in", starts.get())
		}
		c.set(uint32(me), nil)
		o.refresh(ctx)
		if _, err := readOffer(t, o, me); err != nil {
			t.Errorf("after login: %v", err)
		}
		if got := starts.get(); !slices.Equal(got, []string{strconv.Itoa(me)}) {
			t.Errorf("UI agent starts %q, want %d at login", got, me)
		}
	})

	t.Run("fast user switch moves the offer", func(t *testing.T) {
		if os.Geteuid() != 0 {
			t.Skip("giving the file to another user needs root")
		}
		c, starts := &fakeConsole{uid: 501}, &startLog{}
		o := newTestOffer(t, c, starts)
		o.setCatalog(ctx, "http://127.0.0.1:5001/?s=c")
		if _, err := readOffer(t, o, 501); err != nil {
			t.Fatal(err)
		}
		c.set(502, nil)
		o.refresh(ctx)
		if _, err := readOffer(t, o, 501); !errors.Is(err, onboarding.ErrNoSession) {
			t.Errorf("previous user still holds the offer: %v", err)
		}
		if _, err := readOffer(t, o, 502); err != nil {
			t.Errorf("new user: %v", err)
		}
		if got := starts.get(); !slices.Equal(got, []string{"501", "502"}) {
			t.Errorf("UI agent starts %q, want 501 then 502", got)
		}
	})
}

// fakeCatalog is Apps@Work with a page that answers.
type fakeCatalog struct {
	watching atomic.Int32
	waited   atomic.Bool
}

func (*fakeCatalog) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "Apps@Work") })
}

func (f *fakeCatalog) Watch(ctx context.Context, _ time.Duration) {
	f.watching.Add(1)
	<-ctx.Done()
	f.watching.Add(-1)
}

func (f *fakeCatalog) Wait() { f.waited.Store(true) }

func TestServeUIServesCatalogOnceAUserIsAtTheConsoleAfterCheckin(t *testing.T) {
	me := consoleUID()
	c, starts := &fakeConsole{err: executor.ErrNoConsoleUser}, &startLog{}
	page := &fakeCatalog{}
	a := &Agent{o: Options{Log: zap.NewNop(), ConsoleUser: c.user}, id: &Identity{DeviceID: "dev-1"}, catalogPage: page, uiWake: make(chan struct{}, 1)}
	a.ui = newTestOffer(t, c, starts)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	wait := a.serveUI(ctx, 5*time.Millisecond)

	time.Sleep(50 * time.Millisecond)
	if u := a.CatalogPageURL(); u != "" {
		t.Fatalf("served %s with nobody logged in: no listener until a user is there", u)
	}
	c.set(uint32(me), nil)
	time.Sleep(50 * time.Millisecond)
	if u := a.CatalogPageURL(); u != "" {
		t.Fatalf("served %s before a check-in went through onboarding: its kiosk comes first", u)
	}
	a.onboardingSettled()
	var (
		s   onboarding.UISession
		err error
	)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if s, err = readOffer(t, a.ui, me); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("Apps@Work not offered: %v", err)
	}
	if s.CatalogURL != a.CatalogPageURL() || s.DeviceID != "dev-1" || s.Onboarding() {
		t.Errorf("offer = %+v, want the served page %s alone", s, a.CatalogPageURL())
	}
	if err := localweb.Probe(ctx, s.CatalogURL); err != nil {
		t.Errorf("offered page does not answer: %v", err)
	}
	// The UI agent start and the watcher follow the offer asynchronously.
	eventually(t, func() bool { return len(starts.get()) > 0 && page.watching.Load() == 1 })
	if got := starts.get(); !slices.Equal(got, []string{strconv.Itoa(me)}) {
		t.Errorf("UI agent starts %q, want %d once", got, me)
	}
	if page.watching.Load() != 1 {
		t.Errorf("catalog watchers = %d, want 1", page.watching.Load())
	}

	cancel()
	wait()
	if _, err := readOffer(t, a.ui, me); !errors.Is(err, onboarding.ErrNoSession) {
		t.Errorf("offer left behind at shutdown: %v", err)
	}
	if err := localweb.Probe(context.Background(), s.CatalogURL); !errors.Is(err, localweb.ErrPageDown) {
		t.Errorf("page still answers after shutdown: %v", err)
	}
	if page.watching.Load() != 0 || !page.waited.Load() || a.CatalogPageURL() != "" {
		t.Errorf("shutdown: watchers %d, waited %v, url %q", page.watching.Load(), page.waited.Load(), a.CatalogPageURL())
	}
}

// Apps@Work comes right after the check-in, not at the next look for a
// console user.
func TestServeUIWakesAfterCheckin(t *testing.T) {
	me := consoleUID()
	c, starts := &fakeConsole{uid: uint32(me)}, &startLog{}
	a := &Agent{o: Options{Log: zap.NewNop(), ConsoleUser: c.user}, id: &Identity{DeviceID: "dev-1"}, catalogPage: &fakeCatalog{}, uiWake: make(chan struct{}, 1)}
	a.ui = newTestOffer(t, c, starts)
	ctx, cancel := context.WithCancel(context.Background())
	wait := a.serveUI(ctx, time.Hour)
	defer func() { cancel(); wait() }()
	time.Sleep(20 * time.Millisecond)
	if u := a.CatalogPageURL(); u != "" {
		t.Fatalf("served %s before the check-in", u)
	}
	a.onboardingSettled()
	a.onboardingSettled() // later check-ins change nothing
	// The page starts first, then the offer is written: wait for both.
	deadline := time.Now().Add(5 * time.Second)
	for {
		u := a.CatalogPageURL()
		s, err := readOffer(t, a.ui, me)
		if u != "" && err == nil && s.CatalogURL == u {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Apps@Work not offered after the check-in: url %q, offer %+v, %v", u, s, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
