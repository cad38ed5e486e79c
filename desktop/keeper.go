package desktop

import (
	"context"
	"errors"
	"os"
	"sync"

	"github.com/jonboulle/clockwork"
	"go.uber.org/zap"

	"github.com/mobileatwork/mobileatwork/executor"
)

// The daemon shows nothing itself: it runs as root, without a window
// server connection. It serves its pages (onboarding progress, Apps@Work)
// on loopback and offers their addresses to the console user through the
// per-user, per-boot file of WriteOffer; the UI LaunchAgent, in that
// user's GUI login, reads the offer and opens the right window.

// KeeperOptions wire an OfferKeeper; zero fields get production defaults.
type KeeperOptions struct {
	Dir      string // DefaultOfferDir when ""
	DeviceID string
	// ConsoleUser finds the logged-in user; executor.ErrNoConsoleUser is
	// the login window.
	ConsoleUser func() (executor.User, error)
	// StartUI starts the UI LaunchAgent in uid's GUI login, so that a new
	// offer is acted upon now rather than at the next login; with restart,
	// it replaces what the agent shows (an onboarding begins while
	// Apps@Work is open: the kiosk comes first). Default: StartUIAgent and
	// RestartUIAgent.
	StartUI func(ctx context.Context, uid int, restart bool) error
	Clock   clockwork.Clock // dates the offer; also the clock of its users' loops
	Log     *zap.Logger
}

// OfferKeeper keeps the console user's offer file in step with the pages
// the daemon serves: it is the file's only writer, so the onboarding page
// and the catalog never overwrite each other's address.
type OfferKeeper struct {
	o KeeperOptions

	mu         sync.Mutex
	onboarding string // progress page URL, "" when none
	catalog    string // Apps@Work URL, "" when not served
	register   string // registration page URL, "" when enrolled
	uid        int    // the user holding the file; -1 for none
	written    Offer
	closed     bool
}

// NewKeeper returns a keeper that has offered nothing yet.
func NewKeeper(o KeeperOptions) *OfferKeeper {
	if o.Dir == "" {
		o.Dir = DefaultOfferDir
	}
	if o.ConsoleUser == nil {
		o.ConsoleUser = executor.ConsoleUser
	}
	if o.StartUI == nil {
		o.StartUI = startUIAgent
	}
	if o.Clock == nil {
		o.Clock = clockwork.NewRealClock()
	}
	if o.Log == nil {
		o.Log = zap.NewNop()
	}
	return &OfferKeeper{o: o, uid: -1}
}

func startUIAgent(ctx context.Context, uid int, restart bool) error {
	if restart {
		return RestartUIAgent(ctx, uid)
	}
	return StartUIAgent(ctx, uid)
}

// Dir is where the keeper writes the offer.
func (k *OfferKeeper) Dir() string { return k.o.Dir }

// Clock is the keeper's clock, for the loops that call Refresh.
func (k *OfferKeeper) Clock() clockwork.Clock { return k.o.Clock }

// SetOnboarding offers (or, with "", withdraws) the progress page.
func (k *OfferKeeper) SetOnboarding(ctx context.Context, url string) {
	k.mu.Lock()
	k.onboarding = url
	k.mu.Unlock()
	k.Refresh(ctx)
}

// SetCatalog offers (or, with "", withdraws) Apps@Work.
func (k *OfferKeeper) SetCatalog(ctx context.Context, url string) {
	k.mu.Lock()
	k.catalog = url
	k.mu.Unlock()
	k.Refresh(ctx)
}

// SetRegistration offers (or, with "", withdraws) the "Register this Mac"
// page of a daemon that waits for its device to be registered.
func (k *OfferKeeper) SetRegistration(ctx context.Context, url string) {
	k.mu.Lock()
	k.register = url
	k.mu.Unlock()
	k.Refresh(ctx)
}

// Refresh writes the offer for the current console user, moving it from
// the previous one after a user switch, and starts that user's UI agent
// whenever the offer changes. With nothing to offer, the file goes.
func (k *OfferKeeper) Refresh(ctx context.Context) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.closed || (k.onboarding == "" && k.catalog == "" && k.register == "") {
		k.removeLocked()
		return
	}
	u, err := k.o.ConsoleUser()
	if err != nil {
		// The login window, or nobody: keep the offer of the last user,
		// who finds it on coming back.
		if !errors.Is(err, executor.ErrNoConsoleUser) {
			k.o.Log.Debug("no console user", zap.Error(err))
		}
		return
	}
	uid := int(u.UID)
	if uid == k.uid && k.written.URL == k.onboarding && k.written.CatalogURL == k.catalog && k.written.RegisterURL == k.register {
		return
	}
	// A kiosk for a page this user does not see yet replaces whatever the
	// UI agent shows; other changes leave a running UI agent alone.
	restart := k.onboarding != "" && (uid != k.uid || k.written.URL != k.onboarding)
	if uid != k.uid {
		k.removeLocked()
	}
	boot, _ := BootID()
	s := Offer{
		URL: k.onboarding, CatalogURL: k.catalog, DeviceID: k.o.DeviceID,
		BootID: boot, PID: os.Getpid(), WrittenAt: k.o.Clock.Now().UTC(), RegisterURL: k.register,
	}
	if err := WriteOffer(k.o.Dir, uid, s); err != nil {
		k.o.Log.Warn("pages not offered to the console user", zap.Error(err))
		return
	}
	k.uid, k.written = uid, s
	if err := k.o.StartUI(ctx, uid, restart); err != nil {
		k.o.Log.Info("UI agent not started; it starts at the next login", zap.Error(err))
	}
}

// Close withdraws the offer for good: the daemon stops and its pages with
// it. Later calls change nothing.
func (k *OfferKeeper) Close() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.closed = true
	k.onboarding, k.catalog, k.register = "", "", ""
	k.removeLocked()
}

func (k *OfferKeeper) removeLocked() {
	if k.uid < 0 {
		return
	}
	if err := RemoveOffer(k.o.Dir, k.uid); err != nil {
		k.o.Log.Warn("offer not withdrawn", zap.Error(err))
	}
	k.uid, k.written = -1, Offer{}
}
