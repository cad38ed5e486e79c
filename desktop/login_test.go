package desktop

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"testing"

	"github.com/mobileatwork/mobileatwork/protocol"
)

const (
	progressURL = "http://127.0.0.1:5000/?s=progress"
	catalogURL  = "http://127.0.0.1:5001/?s=catalog"
)

// errPageGone is what the kiosk returns when the daemon's page went away.
var errPageGone = errors.New("the onboarding progress page stopped answering")

// fakeMarks keeps the markers in memory.
type fakeMarks struct {
	shown map[string]bool
	err   error // of Shown
}

func (m *fakeMarks) Shown(id string) (bool, error) { return m.shown[id], m.err }
func (m *fakeMarks) Mark(id string) error          { m.shown[id] = true; return nil }
func (m *fakeMarks) Unmark(id string) error        { delete(m.shown, id); return nil }

// fakeWindow records the pages it showed.
type fakeWindow struct {
	shown []string
	err   error
}

func (w *fakeWindow) Show(_ context.Context, u string) error {
	w.shown = append(w.shown, u)
	return w.err
}

// loginWorld is what the user's side sees: the offer, the pages' answers.
type loginWorld struct {
	offer      Offer
	offerErr   error
	after      Offer  // the offer once onboarding ended
	state      string // the progress page's state
	statusErr  error
	kioskErr   error
	probeErr   error
	windowErr  error
	shown      map[string]bool
	marksErr   error
	wantKiosk  bool
	wantWindow []string
	wantErr    bool
	wantShown  bool // dev-1 marked afterwards
}

func TestLogin(t *testing.T) {
	both := Offer{URL: progressURL, CatalogURL: catalogURL, DeviceID: "dev-1"}
	catalogOnly := Offer{CatalogURL: catalogURL, DeviceID: "dev-1"}
	for _, tc := range []struct {
		name string
		w    loginWorld
	}{
		{"no offer", loginWorld{offerErr: ErrNoOffer}},
		{"offer of an earlier boot", loginWorld{offerErr: fmt.Errorf("%w (written yesterday)", ErrStaleOffer)}},
		{"offer unreadable", loginWorld{offerErr: errors.New("permission denied"), wantErr: true}},
		{"onboarding running: kiosk, then Apps@Work", loginWorld{
			offer: both, after: catalogOnly, state: protocol.OnboardingRunning,
			wantKiosk: true, wantWindow: []string{catalogURL}, wantShown: true,
		}},
		{"onboarding running, catalog already shown: kiosk only", loginWorld{
			offer: both, after: catalogOnly, state: protocol.OnboardingRunning, shown: map[string]bool{"dev-1": true},
			wantKiosk: true, wantShown: true,
		}},
		{"kiosk loses its page: restart by launchd", loginWorld{
			offer: both, state: protocol.OnboardingRunning, kioskErr: errPageGone,
			wantKiosk: true, wantErr: true,
		}},
		{"offer withdrawn after onboarding: nothing more", loginWorld{
			offer: both, state: protocol.OnboardingRunning, wantKiosk: true,
		}},
		{"onboarding already over: Apps@Work", loginWorld{
			offer: both, state: protocol.OnboardingDone, wantWindow: []string{catalogURL}, wantShown: true,
		}},
		{"onboarding page not answering: Apps@Work", loginWorld{
			offer: both, statusErr: errors.New("connection refused"), wantWindow: []string{catalogURL}, wantShown: true,
		}},
		{"Apps@Work not yet shown: open it", loginWorld{
			offer: catalogOnly, wantWindow: []string{catalogURL}, wantShown: true,
		}},
		{"Apps@Work already shown: nothing", loginWorld{
			offer: catalogOnly, shown: map[string]bool{"dev-1": true}, wantShown: true,
		}},
		{"shown for an earlier enrollment: open it", loginWorld{
			offer: catalogOnly, shown: map[string]bool{"dev-0": true}, wantWindow: []string{catalogURL}, wantShown: true,
		}},
		{"Apps@Work not answering: nothing, not marked", loginWorld{
			offer: catalogOnly, probeErr: errors.New("connection refused"),
		}},
		{"marker unreadable: nothing rather than at every login", loginWorld{
			offer: catalogOnly, marksErr: errors.New("permission denied"),
		}},
		{"window fails: error, not marked", loginWorld{
			offer: catalogOnly, windowErr: errors.New("no window server"), wantWindow: []string{catalogURL}, wantErr: true,
		}},
		{"progress page only (earlier daemon), over: nothing", loginWorld{
			offer: Offer{URL: progressURL}, state: protocol.OnboardingDone,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := tc.w
			if w.shown == nil {
				w.shown = map[string]bool{}
			}
			marks := &fakeMarks{shown: w.shown, err: w.marksErr}
			win := &fakeWindow{err: w.windowErr}
			kiosk := false
			u := Login{
				Await: func(context.Context) (Offer, error) { return w.offer, w.offerErr },
				Current: func() (Offer, error) {
					if w.after == (Offer{}) {
						return w.after, ErrNoOffer
					}
					return w.after, nil
				},
				Status: func(_ context.Context, u string) (protocol.OnboardingReport, error) {
					if u != progressURL {
						t.Errorf("status of %q, want the progress page", u)
					}
					return protocol.OnboardingReport{State: w.state}, w.statusErr
				},
				Kiosk: func(_ context.Context, u string) error {
					if u != progressURL {
						t.Errorf("kiosk on %q, want the progress page", u)
					}
					kiosk = true
					return w.kioskErr
				},
				Probe: func(_ context.Context, u string) error {
					if u != catalogURL {
						t.Errorf("probe of %q, want the catalog", u)
					}
					return w.probeErr
				},
				Window: win,
				Marks:  marks,
				Log:    io.Discard,
			}
			err := u.Run(context.Background())
			if (err != nil) != w.wantErr {
				t.Errorf("run = %v, want error %v", err, w.wantErr)
			}
			if kiosk != w.wantKiosk {
				t.Errorf("kiosk shown = %v, want %v", kiosk, w.wantKiosk)
			}
			if !slices.Equal(win.shown, w.wantWindow) {
				t.Errorf("window showed %q, want %q", win.shown, w.wantWindow)
			}
			if marks.shown["dev-1"] != w.wantShown {
				t.Errorf("dev-1 marked shown = %v, want %v", marks.shown["dev-1"], w.wantShown)
			}
		})
	}
}

// Apps@Work opens once per enrollment, however often the daemon starts the
// command (each login, each change of its offer).
func TestLoginOpensCatalogOnce(t *testing.T) {
	marks := &fakeMarks{shown: map[string]bool{}}
	win := &fakeWindow{}
	u := Login{
		Await: func(context.Context) (Offer, error) {
			return Offer{CatalogURL: catalogURL, DeviceID: "dev-1"}, nil
		},
		Probe:  func(context.Context, string) error { return nil },
		Window: win, Marks: marks, Log: io.Discard,
	}
	for range 3 {
		if err := u.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if len(win.shown) != 1 {
		t.Errorf("Apps@Work opened %d times, want once", len(win.shown))
	}
}
