package desktop

import (
	"context"
	"errors"
	"io"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/mobileatwork/mobileatwork/executor"
)

const registerURL = "http://127.0.0.1:5002/?s=register"

// modalWindow is the macOS window: Show holds until ctx is done.
type modalWindow struct{ shown []string }

func (w *modalWindow) Show(ctx context.Context, u string) error {
	w.shown = append(w.shown, u)
	<-ctx.Done()
	return nil
}

// The registration page shows until the Mac is registered; Apps@Work of the
// new enrollment opens next.
func TestLoginShowsRegistrationThenCatalog(t *testing.T) {
	reg := Offer{RegisterURL: registerURL}
	tests := []struct {
		name       string
		probeErr   error
		registered Offer
		regErr     error
		wantReg    []string
		wantWindow []string
	}{
		{"registered, then Apps@Work", nil, Offer{CatalogURL: catalogURL, DeviceID: "dev-1"}, nil, []string{registerURL}, []string{catalogURL}},
		{"page not answering", errors.New("connection refused"), Offer{}, nil, nil, nil},
		{"stopped before registration", nil, Offer{}, context.Canceled, []string{registerURL}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rw, w := &modalWindow{}, &fakeWindow{}
			u := Login{
				Await:   func(context.Context) (Offer, error) { return reg, nil },
				Current: func() (Offer, error) { return tc.registered, nil },
				Probe: func(_ context.Context, u string) error {
					if u == registerURL {
						return tc.probeErr
					}
					return nil
				},
				Window: w, RegisterWindow: rw, Marks: &fakeMarks{shown: map[string]bool{}}, Log: io.Discard,
				Registered: func(context.Context) (Offer, error) { return tc.registered, tc.regErr },
			}
			if err := u.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(rw.shown, tc.wantReg) || !slices.Equal(w.shown, tc.wantWindow) {
				t.Fatalf("registration window %v, window %v; want %v, %v", rw.shown, w.shown, tc.wantReg, tc.wantWindow)
			}
		})
	}
}

// WaitRegistered waits through the moment without an offer, between the
// registration page and the enrolled daemon's pages.
func TestInboxWaitRegistered(t *testing.T) {
	dir := t.TempDir()
	clock := clockwork.NewFakeClock()
	in := Inbox{Dir: dir, UID: os.Geteuid(), Clock: clock}
	if err := WriteOffer(dir, in.UID, Offer{RegisterURL: registerURL}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	type result struct {
		s   Offer
		err error
	}
	got := make(chan result, 1)
	go func() { s, err := in.WaitRegistered(ctx); got <- result{s, err} }()
	step := func() {
		t.Helper()
		if err := clock.BlockUntilContext(ctx, 1); err != nil {
			t.Fatal(err)
		}
	}
	step() // the registration page is still offered
	if err := RemoveOffer(dir, in.UID); err != nil {
		t.Fatal(err)
	}
	clock.Advance(offerPoll)
	step() // no offer: the daemon is starting
	if err := WriteOffer(dir, in.UID, Offer{CatalogURL: catalogURL, DeviceID: "dev-1"}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(offerPoll)
	r := <-got
	if r.err != nil || r.s.CatalogURL != catalogURL || r.s.Registration() {
		t.Fatalf("WaitRegistered = %+v, %v", r.s, r.err)
	}
}

// The keeper offers the registration page alone, with no device id, and
// withdraws it.
func TestKeeperOffersRegistration(t *testing.T) {
	dir := t.TempDir()
	me := func() (executor.User, error) { return executor.User{UID: uint32(os.Geteuid()), Name: "ada"}, nil }
	k := NewKeeper(KeeperOptions{Dir: dir, ConsoleUser: me, StartUI: func(context.Context, int, bool) error { return nil }})
	k.SetRegistration(context.Background(), registerURL)
	s, err := ReadOffer(dir, os.Geteuid(), "")
	if err != nil || !s.Registration() || s.RegisterURL != registerURL || s.Onboarding() || s.CatalogURL != "" || s.DeviceID != "" {
		t.Fatalf("offer = %+v, %v", s, err)
	}
	k.SetRegistration(context.Background(), "")
	if _, err := ReadOffer(dir, os.Geteuid(), ""); !errors.Is(err, ErrNoOffer) {
		t.Fatalf("after withdrawal: %v", err)
	}
}
