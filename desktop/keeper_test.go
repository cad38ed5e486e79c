package desktop

import (
	"context"
	"errors"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/mobileatwork/mobileatwork/executor"
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

var offeredAt = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func newTestKeeper(t *testing.T, c *fakeConsole, starts *startLog) (*OfferKeeper, *clockwork.FakeClock) {
	t.Helper()
	clock := clockwork.NewFakeClockAt(offeredAt)
	return NewKeeper(KeeperOptions{
		Dir: t.TempDir(), DeviceID: "dev-1", ConsoleUser: c.user, StartUI: starts.start, Clock: clock,
	}), clock
}

func readOffer(t *testing.T, k *OfferKeeper, uid int) (Offer, error) {
	t.Helper()
	return ReadOffer(k.Dir(), uid, "")
}

func TestOfferKeeper(t *testing.T) {
	me := consoleUID()
	ctx := context.Background()

	t.Run("catalog then onboarding share one file", func(t *testing.T) {
		c, starts := &fakeConsole{uid: uint32(me)}, &startLog{}
		k, clock := newTestKeeper(t, c, starts)
		k.SetCatalog(ctx, "http://127.0.0.1:5001/?s=c")
		s, err := readOffer(t, k, me)
		if err != nil || s.CatalogURL != "http://127.0.0.1:5001/?s=c" || s.Onboarding() || s.DeviceID != "dev-1" {
			t.Fatalf("catalog offer = %+v, %v", s, err)
		}
		if !s.WrittenAt.Equal(offeredAt) || s.PID != os.Getpid() {
			t.Errorf("offer written at %v by %d, want %v (the keeper's clock) by %d", s.WrittenAt, s.PID, offeredAt, os.Getpid())
		}
		clock.Advance(time.Minute)
		k.SetOnboarding(ctx, "http://127.0.0.1:5000/?s=p")
		s, err = readOffer(t, k, me)
		if err != nil || s.URL != "http://127.0.0.1:5000/?s=p" || s.CatalogURL == "" {
			t.Fatalf("with onboarding = %+v, %v; want both pages", s, err)
		}
		if want := offeredAt.Add(time.Minute); !s.WrittenAt.Equal(want) {
			t.Errorf("rewritten offer dated %v, want %v", s.WrittenAt, want)
		}
		k.Refresh(ctx) // nothing changed: no new start
		k.SetOnboarding(ctx, "")
		s, err = readOffer(t, k, me)
		if err != nil || s.Onboarding() || s.CatalogURL == "" {
			t.Fatalf("after onboarding = %+v, %v; want Apps@Work alone", s, err)
		}
		id := strconv.Itoa(me)
		if got, want := starts.get(), []string{id, id + "!", id}; !slices.Equal(got, want) {
			t.Errorf("UI agent starts %q, want %q: once per change, the kiosk replacing Apps@Work", got, want)
		}
		k.Close()
		if _, err := readOffer(t, k, me); !errors.Is(err, ErrNoOffer) {
			t.Errorf("after close: %v, want ErrNoOffer", err)
		}
		k.SetOnboarding(ctx, "http://127.0.0.1:5000/?s=p")
		if _, err := readOffer(t, k, me); !errors.Is(err, ErrNoOffer) {
			t.Errorf("offered after close: %v", err)
		}
	})

	t.Run("nothing offered at the login window", func(t *testing.T) {
		c, starts := &fakeConsole{err: executor.ErrNoConsoleUser}, &startLog{}
		k, _ := newTestKeeper(t, c, starts)
		k.SetCatalog(ctx, "http://127.0.0.1:5001/?s=c")
		if _, err := readOffer(t, k, me); !errors.Is(err, ErrNoOffer) {
			t.Errorf("offer with nobody logged in: %v", err)
		}
		k.Refresh(ctx)
		if len(starts.get()) != 0 {
			t.Errorf("UI agent started for %v with nobody logged in", starts.get())
		}
		c.set(uint32(me), nil)
		k.Refresh(ctx)
		if _, err := readOffer(t, k, me); err != nil {
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
		k, _ := newTestKeeper(t, c, starts)
		k.SetCatalog(ctx, "http://127.0.0.1:5001/?s=c")
		if _, err := readOffer(t, k, 501); err != nil {
			t.Fatal(err)
		}
		c.set(502, nil)
		k.Refresh(ctx)
		if _, err := readOffer(t, k, 501); !errors.Is(err, ErrNoOffer) {
			t.Errorf("previous user still holds the offer: %v", err)
		}
		if _, err := readOffer(t, k, 502); err != nil {
			t.Errorf("new user: %v", err)
		}
		if got := starts.get(); !slices.Equal(got, []string{"501", "502"}) {
			t.Errorf("UI agent starts %q, want 501 then 502", got)
		}
	})
}
