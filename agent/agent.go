// Package agent is the daemon core: identity and enrollment, the check-in
// loop, the receivers that act on each verified configuration, the run
// ledger and the durable outbox of results.
package agent

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/zap"

	"github.com/mobileatwork/mobileatwork/agent/ledger"
	"github.com/mobileatwork/mobileatwork/agent/outbox"
	"github.com/mobileatwork/mobileatwork/agent/retiredsigners"
	"github.com/mobileatwork/mobileatwork/agent/trigger"
	"github.com/mobileatwork/mobileatwork/desktop"
	"github.com/mobileatwork/mobileatwork/executor"
	"github.com/mobileatwork/mobileatwork/internal/atomicfile"
	"github.com/mobileatwork/mobileatwork/internal/logging"
	"github.com/mobileatwork/mobileatwork/internal/routines"
	"github.com/mobileatwork/mobileatwork/protocol"
)

// Options wire an Agent; zero fields get production defaults.
type Options struct {
	StateDir     string
	Log          *zap.Logger
	Clock        clockwork.Clock // nil is the real clock
	Location     *time.Location  // the device's zone, for "local" schedules
	Version      string
	Capabilities []string
	Facts        func() protocol.Facts
	// Exec runs one script; ConsoleUser finds the logged-in user. Tests
	// replace both.
	Exec        func(context.Context, executor.Request) executor.Result
	ConsoleUser func() (executor.User, error)
	// KillRun stops the processes a run left behind (executor.KillRun).
	KillRun func(token string) (int, error)
	// Retries is how often one request is retried before the cycle fails.
	Retries int
	// InventoryRoot prefixes the paths the inventory reads; "" is "/".
	InventoryRoot string
	// Interval, when set, overrides the tenant's check-in interval
	// (troubleshooting: `mobileatwork run --interval 30s`).
	Interval time.Duration
	// UserRunDir is the parent of the run directories of console-user
	// scripts: root's, 0711, so the user reaches its own run directory but
	// can neither rename it nor list the others; "" is DefaultUserRunDir.
	// The root-only state directory cannot serve: the user could not
	// traverse it.
	UserRunDir string
	// UISessionDir is where the daemon offers its pages (onboarding
	// progress, Apps@Work) to the console user's session (see
	// desktop.WriteOffer); "" is desktop.DefaultOfferDir.
	UISessionDir string
	// RecentLog holds the latest warnings and errors of Log, sent with each
	// check-in; nil sends none. Whoever builds Log tees it in (see
	// logging.Options.Recent), so what is sent is what the log shows.
	RecentLog *logging.Recent
	// RetryBase is the pause after a run's first failed attempt, doubling
	// for each next one; 0 is a minute. Shorter ones are meant for tests.
	RetryBase time.Duration
	// DownloadRetryBase is the pause after a package download's first
	// interruption, doubling for each next one; 0 is downloadRetryBase.
	// Shorter ones are meant for tests.
	DownloadRetryBase time.Duration
	// InterfaceAddrs lists the network addresses whose change is the
	// network trigger (trigger.InterfaceAddrs); tests replace it.
	InterfaceAddrs func() ([]string, error)
}

// minAnswer is the smallest answer size the agent asks for.
const minAnswer = 256 << 10

// Receiver acts on a verified check-in payload. Receivers run one after the
// other, in the order registered; a failing or panicking receiver does not
// stop the others. Work a receiver leaves running in the background belongs
// to the agent (see spawn): it ends with the check-in's context or Close,
// which waits for it.
type Receiver interface {
	Name() string
	Receive(ctx context.Context, p *protocol.CheckinPayload) error
}

// ErrNoReceivers refuses a check-in that nothing would act on.
var ErrNoReceivers = errors.New("no receivers registered: nothing would act on the check-in (register them with RegisterReceiver before Cycle or Daemon)")

// drainer is a receiver whose background work a one-shot check-in waits
// for before the process exits.
type drainer interface{ drain(ctx context.Context) }

// Agent is an enrolled device's agent.
type Agent struct {
	o      Options
	id     *Identity
	api    *Client
	outbox *outbox.Outbox
	ledger *ledger.Ledger
	runMu  sync.Mutex // one script at a time

	recvMu    sync.Mutex
	receivers []Receiver

	// bg owns what the agent runs in the background (scripts of the
	// daemon, onboarding and its page); Close cancels and waits for it.
	bg *routines.Group

	// maxAnswer is the check-in answer size the agent asks for: the limit it
	// reads, halved after each answer that was over it.
	maxAnswer atomic.Int64

	unsavedMu sync.Mutex
	unsaved   []unsavedResult // results the outbox could not take yet

	// The Mobile@Work configuration of the latest payload run, to log
	// only its changes.
	cfgMu   sync.Mutex
	cfgSeen bool
	cfgRef  *protocol.ConfigurationRef

	ui          *desktop.OfferKeeper // the console user's offer of the local pages
	catalogPage CatalogPage          // nil: Apps@Work not served
	catalogURL  atomic.Value
	// settled is set once a check-in went through onboarding; uiWake
	// then tells serveUI that Apps@Work may be offered.
	settled atomic.Bool
	uiWake  chan struct{}

	runs runs // the script running now, and the orders that may stop it (cancel.go)
	// again tells the daemon to look at what is due and compute its next
	// wake-up again (see lookAgain): after a batch that recorded a retry
	// (retryRecorded), and at each trigger occurrence.
	again         chan struct{}
	retryRecorded atomic.Bool
	// triggers records logins, network changes and events; firedGen
	// counts their occurrences (see refireSince).
	triggers *trigger.Record
	firedGen atomic.Uint64
	// renewPause is when renewal may be tried again after one that did
	// not happen (renew.go); only the check-in touches it.
	renewPause time.Time
}

// lookAgain leaves the daemon a token (one at most: they coalesce) to run
// what is due from the payload it holds and compute its next wake-up
// again, which neither a recorded retry nor a trigger occurrence is in.
func (a *Agent) lookAgain() {
	select {
	case a.again <- struct{}{}:
	default: // one is pending already
	}
}

// New loads the identity and opens the state directory. It changes nothing:
// Cycle and Daemon take the state lock and settle interrupted runs first, so
// commands such as `status` can run beside the daemon.
func New(o Options) (*Agent, error) {
	if o.Log == nil {
		o.Log = zap.NewNop()
	}
	// Scripts run in a directory below the state dir: it must not be relative
	// to a working directory the child changes.
	abs, err := filepath.Abs(o.StateDir)
	if err != nil {
		return nil, fmt.Errorf("state directory: %w", err)
	}
	o.StateDir = abs
	if o.Clock == nil {
		o.Clock = clockwork.NewRealClock()
	}
	if o.Location == nil {
		o.Location = time.Local
	}
	if o.Exec == nil {
		o.Exec = executor.Run
	}
	if o.ConsoleUser == nil {
		o.ConsoleUser = executor.ConsoleUser
	}
	if o.KillRun == nil {
		o.KillRun = executor.KillRun
	}
	if o.Facts == nil {
		o.Facts = func() protocol.Facts { return protocol.Facts{AgentVersion: o.Version} }
	}
	if o.Retries == 0 {
		o.Retries = 3
	}
	if o.UserRunDir == "" {
		o.UserRunDir = DefaultUserRunDir
	}
	if o.UISessionDir == "" {
		o.UISessionDir = desktop.DefaultOfferDir
	}
	if o.InterfaceAddrs == nil {
		o.InterfaceAddrs = trigger.InterfaceAddrs
	}
	id, err := LoadIdentity(o.StateDir)
	if err != nil {
		return nil, err
	}
	api, err := NewClient(id, o.Retries, newSessionCache(filepath.Join(o.StateDir, sessionsFile), o.Log))
	if err != nil {
		return nil, err
	}
	api.Log, api.Now = o.Log, o.Clock.Now
	if api.Retired, err = retiredsigners.Open(filepath.Join(o.StateDir, retiredSignersFile)); err != nil {
		return nil, err
	}
	ob, err := outbox.Open(filepath.Join(o.StateDir, outboxDir))
	if err != nil {
		return nil, err
	}
	lg, err := ledger.Open(filepath.Join(o.StateDir, ledgerDir))
	if err != nil {
		return nil, err
	}
	a := &Agent{o: o, id: id, api: api, outbox: ob, ledger: lg}
	a.maxAnswer.Store(protocol.MaxResponseBody)
	a.ui, a.uiWake = newUIOffer(a, o.UISessionDir), make(chan struct{}, 1)
	a.again = make(chan struct{}, 1)
	a.bg = routines.New(context.Background())
	if err := a.openTriggers(); err != nil {
		return nil, err
	}
	return a, nil
}

// RegisterReceiver adds r to what acts on each verified check-in. Register
// before Cycle or Daemon; they refuse to run with none (ErrNoReceivers).
// Receivers run in the order registered, so the order is part of the
// wiring: scripts first (what is due runs without waiting for anything
// else), then inventory (it sees what the scripts changed), then the
// catalog (Apps@Work shows the offers of this check-in), then onboarding
// last (when it settles, Apps@Work may be offered, and its offers must be
// saved by then).
func (a *Agent) RegisterReceiver(r Receiver) {
	a.recvMu.Lock()
	defer a.recvMu.Unlock()
	a.receivers = append(a.receivers, r)
}

// RegisterCatalogPage has Daemon serve Apps@Work to the console user;
// without it the daemon serves none. Register before Daemon.
func (a *Agent) RegisterCatalogPage(p CatalogPage) { a.catalogPage = p }

func (a *Agent) registered() []Receiver {
	a.recvMu.Lock()
	defer a.recvMu.Unlock()
	return slices.Clone(a.receivers)
}

// ErrClosed refuses a check-in of an agent that was closed.
var ErrClosed = errors.New("the agent was closed: create another to check in again")

// begin starts a Cycle or Daemon: with receivers registered and the agent
// open, it takes the state lock and settles what a crash interrupted.
func (a *Agent) begin() (release func(), err error) {
	if len(a.registered()) == 0 {
		return nil, ErrNoReceivers
	}
	if a.bg.Context().Err() != nil {
		return nil, ErrClosed
	}
	return a.start()
}

// spawn runs f in the background, owned by the agent: f's context ends
// with ctx (the check-in's: Ctrl-C, the daemon stopping) or with Close,
// whichever comes first, and Close waits for f to return. It reports
// false, running nothing, once the agent is closed.
func (a *Agent) spawn(ctx context.Context, f func(ctx context.Context)) bool {
	return a.bg.Go(func(context.Context) {
		ctx, cancel := a.owned(ctx)
		defer cancel()
		f(ctx)
	})
}

// owned returns a context that ends with ctx or with Close.
func (a *Agent) owned(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(a.bg.Context(), cancel)
	return ctx, func() { stop(); cancel() }
}

// Close stops what the agent runs in the background and waits for it: a
// one-shot check-in's onboarding loop and progress page, the daemon's
// scripts. Daemon closes the agent before it returns. Later check-ins are
// refused (ErrClosed); Close may be called more than once.
func (a *Agent) Close() {
	a.bg.Close()
	// Nothing outlives the agent, keep-alive connections included.
	a.api.CloseIdleConnections()
}

// DeviceID is the enrolled device id.
func (a *Agent) DeviceID() string { return a.id.DeviceID }

func (a *Agent) url(path string) string { return a.id.ServerURL + path }

// Checkin performs one signed check-in and returns the verified payload,
// which is also saved for the scheduler and `status`. The agent names the
// content it holds; when the server answers that it is unchanged, the saved
// payload stands, under the new answer's validity.
//
// A renewed device certificate waiting for confirmation is what it checks
// in with (renew.go); once the answer is verified and saved, the renewed
// identity becomes the device's.
func (a *Agent) Checkin(ctx context.Context) (*protocol.CheckinPayload, error) {
	a.renewIfDue(ctx)
	held, _ := a.lastPayload()
	cur, next := a.api.identity(), a.loadNext()
	var (
		p         protocol.CheckinPayload
		unchanged bool
		err       error
	)
	if next != nil {
		if err := a.api.use(next); err != nil {
			return nil, err
		}
		// The payload held was sealed to the old certificate: ask for all.
		p, unchanged, err = a.api.Checkin(ctx, a.checkinRequest(), nil, a.o.Clock.Now)
		if err != nil {
			if uerr := a.api.use(cur); uerr != nil {
				return nil, uerr
			}
			if refusedIdentity(err) {
				a.discardNext(err)
				next = nil
			}
		}
	}
	if next == nil {
		p, unchanged, err = a.api.Checkin(ctx, a.checkinRequest(), held, a.o.Clock.Now)
	}
	if errors.Is(err, ErrAnswerTooLarge) {
		// Never lock ourselves out: ask for less next time; the server
		// sends the rest in later answers.
		if n := a.maxAnswer.Load() / 2; n >= minAnswer {
			a.maxAnswer.Store(n)
		}
		a.o.Log.Warn("the check-in answer was over the limit: asking the server for smaller ones", zap.Int64("max_response_bytes", a.maxAnswer.Load()))
	}
	if err != nil {
		return nil, err
	}
	if !unchanged {
		if err := atomicfile.WriteJSON(filepath.Join(a.o.StateDir, payloadFile), p, 0o600); err != nil {
			return nil, err
		}
	}
	if next != nil {
		if err := a.commitNext(cur, next); err != nil {
			return nil, err
		}
	}
	if p.Resend {
		a.o.Log.Info("server redistributed the whole configuration", zap.String("version", a.o.Version))
	}
	a.applyOrders(&p)
	a.o.Log.Debug("checked in", configurationField(p.Configuration), zap.Bool("unchanged", unchanged), zap.Int("assignments", len(p.Assignments)),
		zap.Bool("more", p.More), zap.Bool("resend", p.Resend), zap.Int("apps", len(p.Apps)),
		zap.Bool("onboarding", p.Onboarding != nil), zap.Int("checkin_interval_minutes", p.Config.CheckinIntervalMinutes))
	return &p, nil
}

// configurationField names the Mobile@Work configuration in effect in a log line.
func configurationField(ref *protocol.ConfigurationRef) zap.Field {
	if ref == nil {
		return zap.String("configuration", "none: no script runs")
	}
	return zap.String("configuration", fmt.Sprintf("%s (%s, version %d)", ref.Name, ref.ID, ref.Version))
}

func (a *Agent) checkinRequest() protocol.CheckinRequest {
	return protocol.CheckinRequest{
		AgentVersion: a.o.Version, Capabilities: a.o.Capabilities, Facts: a.o.Facts(), RecentLog: a.o.RecentLog.Lines(),
		MaxResponseBytes: int(a.maxAnswer.Load()),
	}
}

// lastPayload is the payload of the latest successful check-in, if any.
func (a *Agent) lastPayload() (*protocol.CheckinPayload, error) {
	var p protocol.CheckinPayload
	if err := atomicfile.ReadJSON(filepath.Join(a.o.StateDir, payloadFile), &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// Receive hands a payload to every receiver, each guarded against panics.
func (a *Agent) Receive(ctx context.Context, p *protocol.CheckinPayload) error {
	var errs []error
	for _, r := range a.registered() {
		func() {
			defer func() {
				if v := recover(); v != nil {
					a.o.Log.Error("receiver panicked", zap.String("receiver", r.Name()), zap.Any("panic", v), zap.ByteString("stack", debug.Stack()))
					errs = append(errs, fmt.Errorf("%s: panic: %v", r.Name(), v))
				}
			}()
			if err := r.Receive(ctx, p); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", r.Name(), err))
			}
		}()
	}
	return errors.Join(errs...)
}

// Cycle is one foreground check-in: deliver what is queued, check in, run
// what is due, deliver the new results. Results stay queued on any failure.
// Onboarding installs in flight are let finish before it returns; the
// onboarding loop and its page go on in the background until ctx is done
// or Close.
func (a *Agent) Cycle(ctx context.Context) error {
	release, err := a.begin()
	if err != nil {
		return err
	}
	defer release()
	st := a.loadStatus()
	st.LastAttempt = a.o.Clock.Now().UTC()
	_, ferr := a.Flush(ctx)
	p, err := a.Checkin(ctx)
	if err != nil {
		st.LastError = err.Error()
		a.saveStatus(st)
		return err
	}
	st.LastCheckin, st.LastError = a.o.Clock.Now().UTC(), ""
	a.saveStatus(st)
	rerr := a.Receive(ctx, p)
	// The process exits after a one-shot check-in: never with an install
	// half done.
	for _, r := range a.registered() {
		if d, ok := r.(drainer); ok {
			d.drain(ctx)
		}
	}
	if _, err := a.Flush(ctx); err != nil {
		return errors.Join(rerr, err)
	}
	if ferr != nil {
		a.o.Log.Debug("early flush failed, later flush succeeded", zap.Error(ferr))
	}
	return rerr
}

// NewRunID returns a run id that sorts by time: UTC timestamp to the
// nanosecond, then random hex so two agents never collide.
func NewRunID(t time.Time) string {
	b := make([]byte, 6)
	rand.Read(b)
	t = t.UTC()
	return t.Format("20060102T150405") + fmt.Sprintf("%09d", t.Nanosecond()) + "Z-" + hex.EncodeToString(b)
}

// Status is what `mobileatwork status` shows.
type Status struct {
	Enrolled    bool             `json:"enrolled"`
	DeviceID    string           `json:"device_id,omitempty"`
	Server      string           `json:"server,omitempty"`
	EnrolledAt  time.Time        `json:"enrolled_at,omitzero"`
	LastCheckin time.Time        `json:"last_checkin,omitzero"`
	LastAttempt time.Time        `json:"last_attempt,omitzero"`
	LastError   string           `json:"last_error,omitempty"`
	Queued      int              `json:"queued_results"`
	NextRuns    []NextRun        `json:"next_runs"`
	Config      *protocol.Config `json:"config,omitempty"`
	// Configuration is the Mobile@Work configuration in effect as of the
	// last check-in; nil with a Config means none is distributed to the
	// device, and then no script runs.
	Configuration *protocol.ConfigurationRef `json:"configuration,omitempty"`
}

// NextRun is the next scheduled run of one assignment.
type NextRun struct {
	AssignmentID string    `json:"assignment_id"`
	Name         string    `json:"name"`
	Schedule     string    `json:"schedule"`
	Next         time.Time `json:"next,omitzero"`
	State        string    `json:"state"` // due, scheduled, done, finished, retry; waiting for a trigger
	// Retry is the retry that runs at Next (1: the second attempt), of
	// Retries, when State is retry.
	Retry   int `json:"retry,omitempty"`
	Retries int `json:"retries,omitempty"`
	// LastOccurrence is, for a triggered assignment, its trigger's latest
	// occurrence (the enrollment, for an enrollment trigger).
	LastOccurrence time.Time `json:"last_occurrence,omitzero"`
}

func (a *Agent) loadStatus() Status {
	var st Status
	atomicfile.ReadJSON(filepath.Join(a.o.StateDir, statusFile), &st)
	return st
}

func (a *Agent) saveStatus(st Status) {
	st.NextRuns, st.Config, st.Configuration = nil, nil, nil // derived when shown
	if err := atomicfile.WriteJSON(filepath.Join(a.o.StateDir, statusFile), st, 0o600); err != nil {
		a.o.Log.Warn("save status", zap.Error(err))
	}
}

// Status reports the agent's state; it needs no network.
func (a *Agent) Status() Status {
	st := a.loadStatus()
	st.Enrolled, st.DeviceID, st.Server, st.EnrolledAt = true, a.id.DeviceID, a.id.ServerURL, a.id.EnrolledAt
	st.Queued = a.outbox.Len()
	st.NextRuns = []NextRun{}
	if p, err := a.lastPayload(); err == nil {
		st.Config, st.Configuration = &p.Config, p.Configuration
		st.NextRuns = a.nextRuns(p, a.o.Clock.Now())
	}
	return st
}

func inputEnvName(name string) string { return "MAW_INPUT_" + strings.ToUpper(name) }
