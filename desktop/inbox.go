package desktop

import (
	"context"
	"errors"
	"os"
	"time"

	"github.com/jonboulle/clockwork"
)

// offerPoll is how often Inbox.Wait looks for the daemon's offer.
const offerPoll = time.Second

// Inbox is where one user's session finds the daemon's offer.
type Inbox struct {
	Dir string
	UID int
	// BootID refuses an offer of another boot; "" accepts any.
	BootID string
	Clock  clockwork.Clock // nil: the real clock
}

// UserInbox is the inbox in dir of this process's user, in this boot.
func UserInbox(dir string) Inbox {
	boot, _ := BootID()
	return Inbox{Dir: dir, UID: os.Getuid(), BootID: boot}
}

// Read returns the offer as it stands.
func (in Inbox) Read() (Offer, error) { return ReadOffer(in.Dir, in.UID, in.BootID) }

// Wait returns the offer once there is one, or ErrNoOffer after wait: the
// UI agent can start before the daemon wrote it (a login right after a
// boot). Any other error ends the wait at once.
func (in Inbox) Wait(ctx context.Context, wait time.Duration) (Offer, error) {
	clock := in.Clock
	if clock == nil {
		clock = clockwork.NewRealClock()
	}
	deadline := clock.Now().Add(wait)
	for {
		s, err := in.Read()
		if !errors.Is(err, ErrNoOffer) || !clock.Now().Before(deadline) {
			return s, err
		}
		t := clock.NewTimer(min(offerPoll, deadline.Sub(clock.Now())))
		select {
		case <-ctx.Done():
			t.Stop()
			return Offer{}, ctx.Err()
		case <-t.Chan():
		}
	}
}
