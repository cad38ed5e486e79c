package desktop

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/mobileatwork/mobileatwork/protocol"
)

// What the UI LaunchAgent shows in a GUI login. The daemon runs as root and
// cannot show a window; it serves its pages on loopback and offers their
// addresses to the console user (WriteOffer). The UI agent, running as that
// user in that session, reads the offer and shows the kiosk until
// onboarding ends, then Apps@Work in a regular window once per enrollment.

// ShownMarks remember that Apps@Work was opened for an enrollment;
// appcatalog.ShownMarks is the real one.
type ShownMarks interface {
	Shown(deviceID string) (bool, error)
	Mark(deviceID string) error
	Unmark(deviceID string) error
}

// Login decides what the user sees at login or when the daemon's offer
// changes:
//
//	offer                                   shows
//	none, of an earlier boot                nothing
//	registration page                       it, in a window, until registered; then as below
//	onboarding page running                 kiosk until onboarding ends, then as below
//	Apps@Work not yet opened for the device Apps@Work in a window, once
//	Apps@Work already opened                nothing
//	Apps@Work page not answering            nothing
//
// The window never comes from the root daemon: it is this process, in the
// user's GUI login.
type Login struct {
	Await   func(context.Context) (Offer, error) // waits for the daemon's offer (Inbox.Wait)
	Current func() (Offer, error)                // reads it once (Inbox.Read)
	Status  func(ctx context.Context, pageURL string) (protocol.OnboardingReport, error)
	Kiosk   func(ctx context.Context, pageURL string) error // returns when onboarding ended
	Probe   func(ctx context.Context, pageURL string) error
	Window  Window
	Marks   ShownMarks
	Log     io.Writer
	// Registered waits until the offer is no longer the registration page
	// and returns the one that replaced it (Inbox.WaitRegistered).
	Registered func(context.Context) (Offer, error)
	// RegisterWindow shows the registration page; nil is Window.
	RegisterWindow Window
}

// Run shows what the offer calls for. It returns nil when there is nothing
// (more) to show, so that launchd does not restart the UI agent, and an
// error when the kiosk lost its page: launchd restarts the agent, which
// picks up the daemon's new offer.
func (u Login) Run(ctx context.Context) error {
	s, err := u.Await(ctx)
	switch {
	case errors.Is(err, ErrNoOffer), errors.Is(err, ErrStaleOffer), errors.Is(err, context.Canceled):
		fmt.Fprintf(u.Log, "nothing to show: %v\n", err)
		return nil
	case err != nil:
		return err
	}
	if s.Registration() {
		next, ok, err := u.register(ctx, s)
		if !ok {
			return err
		}
		s = next
	}
	if s.Onboarding() {
		// Ask the live page before showing anything: an offer can outlive
		// its onboarding (a daemon killed before it withdrew it).
		r, err := u.Status(ctx, s.URL)
		switch {
		case err != nil:
			fmt.Fprintf(u.Log, "onboarding page offered but not answering: %v\n", err)
		case r.Final():
			fmt.Fprintf(u.Log, "onboarding already %s\n", r.State)
		default:
			if err := u.Kiosk(ctx, s.URL); err != nil {
				return err
			}
			// Onboarding ended: Apps@Work comes next, from the daemon's
			// offer as it stands now.
			if s, err = u.Current(); err != nil {
				fmt.Fprintf(u.Log, "nothing more to show: %v\n", err)
				return nil
			}
		}
	}
	return u.catalog(ctx, s)
}

// catalog opens Apps@Work once per enrollment.
func (u Login) catalog(ctx context.Context, s Offer) error {
	if s.CatalogURL == "" {
		return nil
	}
	shown, err := u.Marks.Shown(s.DeviceID)
	switch {
	case err != nil:
		// Without the marker the window would open at every login.
		fmt.Fprintf(u.Log, "Apps@Work not opened: %v\n", err)
		return nil
	case shown:
		return nil
	}
	if err := u.Probe(ctx, s.CatalogURL); err != nil {
		fmt.Fprintf(u.Log, "Apps@Work offered but not answering: %v\n", err)
		return nil
	}
	// Marked before it shows: on macOS the window's event loop ends the
	// process when the user closes it.
	if err := u.Marks.Mark(s.DeviceID); err != nil {
		fmt.Fprintf(u.Log, "Apps@Work not opened: %v\n", err)
		return nil
	}
	if err := u.Window.Show(ctx, s.CatalogURL); err != nil {
		return errors.Join(fmt.Errorf("open Apps@Work: %w", err), u.Marks.Unmark(s.DeviceID))
	}
	return nil
}
