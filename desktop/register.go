package desktop

import (
	"context"
	"errors"
	"fmt"

	"github.com/jonboulle/clockwork"

	"github.com/mobileatwork/mobileatwork/internal/routines"
)

// Before the Mac is registered, the daemon offers its "Register this Mac"
// page. The UI agent shows it in a regular window and, once the daemon's
// offer no longer holds it (the Mac registered), closes it and goes on
// with the offer that replaced it: the onboarding kiosk or Apps@Work, as
// after any enrollment.

// register shows the registration page until the Mac is registered and
// returns the offer that came next; ok is false when there is nothing more
// to show (the page does not answer, or ctx ended).
func (u Login) register(ctx context.Context, s Offer) (next Offer, ok bool, err error) {
	if err := u.Probe(ctx, s.RegisterURL); err != nil {
		fmt.Fprintf(u.Log, "registration page offered but not answering: %v\n", err)
		return Offer{}, false, nil
	}
	w := u.RegisterWindow
	if w == nil {
		w = u.Window
	}
	type result struct {
		s   Offer
		err error
	}
	got := make(chan result, 1)
	shown, closeWindow := context.WithCancel(ctx)
	defer closeWindow()
	g := routines.New(ctx)
	defer g.Close()
	g.Go(func(ctx context.Context) {
		s, err := u.Registered(ctx)
		got <- result{s, err}
		closeWindow() // the page's work is done: make room for what follows
	})
	// Show returns once the Mac is registered, or at once for a page
	// handed to a browser: either way, what follows waits for the offer.
	if err := w.Show(shown, s.RegisterURL); err != nil {
		return Offer{}, false, fmt.Errorf("open the registration page: %w", err)
	}
	r := <-got
	if r.err != nil {
		fmt.Fprintf(u.Log, "registration not seen: %v\n", r.err)
		return Offer{}, false, nil
	}
	fmt.Fprintln(u.Log, "this Mac is registered")
	return r.s, true, nil
}

// WaitRegistered returns the offer once it is no longer the registration
// page: the daemon registered the Mac and offers what comes next. A missing
// offer is the moment between the two (the daemon withdrew its page and has
// not checked in yet), so the wait goes on until ctx is done.
func (in Inbox) WaitRegistered(ctx context.Context) (Offer, error) {
	clock := in.Clock
	if clock == nil {
		clock = clockwork.NewRealClock()
	}
	for {
		s, err := in.Read()
		switch {
		case err == nil && !s.Registration():
			return s, nil
		case err != nil && !errors.Is(err, ErrNoOffer) && !errors.Is(err, ErrStaleOffer):
			return Offer{}, err
		}
		if !routines.Sleep(ctx, clock, offerPoll) {
			return Offer{}, ctx.Err()
		}
	}
}
