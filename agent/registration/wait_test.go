package registration

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/mobileatwork/mobileatwork/agent"
	"github.com/mobileatwork/mobileatwork/agent/managedpref"
	"github.com/mobileatwork/mobileatwork/desktop"
	"github.com/mobileatwork/mobileatwork/executor"
	"github.com/mobileatwork/mobileatwork/internal/localweb"
	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server"
)

// tenant is a server on loopback to enroll with.
func tenant(t *testing.T) (srv *server.Server, url string) {
	t.Helper()
	srv, err := server.Init(filepath.Join(t.TempDir(), "data"), "Registration tests", nil)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(srv.Handler())
	ts.TLS = srv.TLSConfig()
	ts.StartTLS()
	t.Cleanup(func() { ts.Close(); srv.Close() })
	return srv, ts.URL
}

// waitWorld is a daemon waiting for registration on a fake clock.
type waitWorld struct {
	t       *testing.T
	state   string
	offers  string
	clock   *clockwork.FakeClock
	console atomic.Bool // a user is at the console
	retries atomic.Int32
	ctx     context.Context
	stop    context.CancelFunc // stops the daemon
	done    chan error
}

func startWait(t *testing.T, serverURL string, retry func(ctx context.Context, state string)) *waitWorld {
	t.Helper()
	return startWaitWith(t, serverURL, retry, nil)
}

// startWaitWith is startWait with more options set by edit.
func startWaitWith(t *testing.T, serverURL string, retry func(ctx context.Context, state string), edit func(*Options)) *waitWorld {
	t.Helper()
	w := &waitWorld{t: t, state: filepath.Join(t.TempDir(), "state"), offers: t.TempDir(), clock: clockwork.NewFakeClock(), done: make(chan error, 1)}
	// w.ctx bounds the test; the daemon's own context is stopped by w.stop.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	w.ctx = ctx
	daemon, stop := context.WithCancel(ctx)
	t.Cleanup(stop)
	w.stop = stop
	me := executor.User{UID: uint32(os.Geteuid()), GID: uint32(os.Getegid()), Name: "ada"}
	o := Options{
		StateDir: w.state,
		Enroll: func(ctx context.Context, server, token string) (*agent.Identity, error) {
			return agent.Enroll(ctx, agent.EnrollOptions{StateDir: w.state, ServerURL: server, Token: token, Clock: w.clock})
		},
		OfferDir: w.offers,
		ConsoleUser: func() (executor.User, error) {
			if w.console.Load() {
				return me, nil
			}
			return executor.User{}, executor.ErrNoConsoleUser
		},
		StartUI: func(context.Context, int, bool) error { return nil },
		Clock:   w.clock,
	}
	if retry != nil {
		o.Retry = func(ctx context.Context) { w.retries.Add(1); retry(ctx, w.state) }
	}
	if edit != nil {
		edit(&o)
	}
	go func() { w.done <- Wait(daemon, o) }()
	return w
}

// waiting returns once the loop waits for its next pass.
func (w *waitWorld) waiting() {
	w.t.Helper()
	if err := w.clock.BlockUntilContext(w.ctx, 1); err != nil {
		w.t.Fatalf("the loop does not wait: %v", err)
	}
}

func (w *waitWorld) offer() (desktop.Offer, error) {
	return desktop.ReadOffer(w.offers, os.Geteuid(), "")
}

func (w *waitWorld) returned() error {
	w.t.Helper()
	select {
	case err := <-w.done:
		return err
	case <-w.ctx.Done():
		w.t.Fatal("Wait did not return")
		return nil
	}
}

// register fills the offered page's form as the browser does.
func register(t *testing.T, pageURL, serverURL, token string) Answer {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: time.Minute}
	res, err := hc.Get(pageURL)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	_, err = io.Copy(&b, res.Body)
	res.Body.Close()
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("page: %v %v", res.Status, err)
	}
	m := formTokenRE.FindStringSubmatch(b.String())
	if m == nil {
		t.Fatalf("no form on the page:\n%s", b.String())
	}
	u, _ := url.Parse(pageURL)
	origin := "http://" + u.Host
	form := url.Values{FieldServer: {serverURL}, FieldToken: {token}, FieldFormToken: {m[1]}}
	req, _ := http.NewRequest(http.MethodPost, origin+"/register", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", origin)
	res, err = hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var a Answer
	if err := json.NewDecoder(res.Body).Decode(&a); err != nil {
		t.Fatal(err)
	}
	return a
}

// Not enrolled: nothing is served at the login window; the page is offered
// once a user is at the console; a registration through it enrolls the
// device, Wait returns, the page and its offer are gone and the daemon's
// agent starts.
func TestWaitForRegistration(t *testing.T) {
	srv, serverURL := tenant(t)
	w := startWait(t, serverURL, nil)
	w.waiting()
	if _, err := w.offer(); !errors.Is(err, desktop.ErrNoOffer) {
		t.Fatalf("offered at the login window: %v", err)
	}
	w.console.Store(true)
	w.clock.Advance(consoleEvery)
	w.waiting()
	s, err := w.offer()
	if err != nil || !s.Registration() || s.DeviceID != "" || s.CatalogURL != "" || s.Onboarding() {
		t.Fatalf("offer = %+v, %v; want the registration page alone", s, err)
	}

	// A wrong token changes nothing; the loop goes on.
	if a := register(t, s.RegisterURL, serverURL, protocol.EnrollToken{Secret: make([]byte, 32), CAPin: srv.Tenant.CAPin()}.String()); a.Registered || a.Message != MsgTokenUnknown {
		t.Fatalf("unknown token: %+v", a)
	}
	select {
	case err := <-w.done:
		t.Fatalf("Wait returned after a refused token: %v", err)
	default:
	}

	token, err := srv.CreateToken(context.Background(), "ada@example.com", 1, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if a := register(t, s.RegisterURL, serverURL, token); !a.Registered {
		t.Fatalf("registration: %+v", a)
	}
	if err := w.returned(); err != nil {
		t.Fatalf("Wait = %v", err)
	}
	if _, err := w.offer(); !errors.Is(err, desktop.ErrNoOffer) {
		t.Errorf("registration page still offered: %v", err)
	}
	if err := localweb.Probe(context.Background(), s.RegisterURL); !errors.Is(err, localweb.ErrPageDown) {
		t.Errorf("registration page still answers: %v", err)
	}
	a, err := agent.New(agent.Options{StateDir: w.state})
	if err != nil {
		t.Fatalf("the daemon cannot start: %v", err)
	}
	defer a.Close()
	devs, err := srv.Store.Devices(context.Background())
	if err != nil || len(devs) != 1 || devs[0].ID != a.DeviceID() {
		t.Fatalf("devices on the server = %+v, %v; want %s", devs, err, a.DeviceID())
	}
}

// The daemon's own attempt (the enrollment file) runs every retryEvery
// while it waits, and its success ends the wait.
func TestWaitEndsWhenRetryEnrolls(t *testing.T) {
	srv, serverURL := tenant(t)
	token, err := srv.CreateToken(context.Background(), "", 1, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	w := startWait(t, serverURL, func(ctx context.Context, state string) {
		if _, err := agent.Enroll(ctx, agent.EnrollOptions{StateDir: state, ServerURL: serverURL, Token: token}); err != nil {
			t.Errorf("enroll: %v", err)
		}
	})
	for range retryEvery / consoleEvery {
		w.waiting()
		if n := w.retries.Load(); n != 0 {
			t.Fatalf("retried %d times before %s", n, retryEvery)
		}
		w.clock.Advance(consoleEvery)
	}
	if err := w.returned(); err != nil || w.retries.Load() != 1 {
		t.Fatalf("Wait = %v after %d retries", err, w.retries.Load())
	}
}

// Stopped while waiting: ctx's error, and no offer left behind.
func TestWaitStopped(t *testing.T) {
	_, serverURL := tenant(t)
	w := startWait(t, serverURL, nil)
	w.console.Store(true)
	w.waiting()
	s, err := w.offer()
	if err != nil {
		t.Fatalf("not offered: %v", err)
	}
	w.stop()
	if err := w.returned(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait = %v, want context.Canceled", err)
	}
	if _, err := w.offer(); !errors.Is(err, desktop.ErrNoOffer) {
		t.Errorf("offer left behind: %v", err)
	}
	if err := localweb.Probe(context.Background(), s.RegisterURL); !errors.Is(err, localweb.ErrPageDown) {
		t.Errorf("page still answers: %v", err)
	}
}

// An enrolled device does not wait, and offers nothing.
func TestWaitEnrolledAlready(t *testing.T) {
	srv, serverURL := tenant(t)
	token, err := srv.CreateToken(context.Background(), "", 1, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(t.TempDir(), "state")
	if _, err := agent.Enroll(context.Background(), agent.EnrollOptions{StateDir: state, ServerURL: serverURL, Token: token}); err != nil {
		t.Fatal(err)
	}
	offers := t.TempDir()
	err = Wait(context.Background(), Options{StateDir: state, Enroll: noEnroll, OfferDir: offers, Clock: clockwork.NewFakeClock(),
		ConsoleUser: func() (executor.User, error) { return executor.User{UID: uint32(os.Geteuid())}, nil }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := desktop.ReadOffer(offers, os.Geteuid(), ""); !errors.Is(err, desktop.ErrNoOffer) {
		t.Errorf("offered: %v", err)
	}
}

// Under MDM the profile often arrives after the package: the waiting
// daemon reads the managed preference again, less and less often, and
// enrolls once it is there, without exiting meanwhile.
func TestWaitEnrollsWhenManagedPreferenceArrives(t *testing.T) {
	srv, serverURL := tenant(t)
	token, err := srv.CreateToken(context.Background(), "", 1, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	pref := filepath.Join(t.TempDir(), "com.mobileatwork.agent.plist")
	var reads atomic.Int32
	w := startWaitWith(t, serverURL, nil, func(o *Options) {
		o.Managed = func() (managedpref.Enrollment, error) { reads.Add(1); return managedpref.Read(pref) }
	})
	// Absent for an hour: read at once, then at growing intervals.
	for range time.Hour / consoleEvery {
		w.waiting()
		select {
		case err := <-w.done:
			t.Fatalf("Wait returned %v before the preference arrived", err)
		default:
		}
		w.clock.Advance(consoleEvery)
	}
	// 10 s, 20 s, ..., 5 min, then every 5 min: 18 reads in the hour.
	if n := reads.Load(); n < 10 || n > 20 {
		t.Fatalf("%d reads of the absent preference in an hour, want a backoff to one each %s", n, managedMost)
	}
	body := `<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><dict>` +
		`<key>ServerURL</key><string>` + serverURL + `</string><key>EnrollmentToken</key><string>` + token + `</string></dict></plist>`
	if err := os.WriteFile(pref, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		if i > int(managedMost/consoleEvery) {
			t.Fatalf("not enrolled %s after the preference arrived", managedMost)
		}
		w.clock.Advance(consoleEvery)
		if ret, err := w.waitingOrReturned(); ret {
			if err != nil {
				t.Fatalf("Wait = %v", err)
			}
			break
		}
	}
	if _, err := agent.LoadIdentity(w.state); err != nil {
		t.Fatalf("Wait returned, device not enrolled: %v", err)
	}
}

// waitingOrReturned returns once the loop waits again (false) or Wait
// returned (true, with its error).
func (w *waitWorld) waitingOrReturned() (bool, error) {
	w.t.Helper()
	for w.ctx.Err() == nil {
		select {
		case err := <-w.done:
			return true, err
		default:
		}
		ctx, cancel := context.WithTimeout(w.ctx, 50*time.Millisecond)
		err := w.clock.BlockUntilContext(ctx, 1)
		cancel()
		if err == nil {
			select {
			case err := <-w.done:
				return true, err
			default:
				return false, nil
			}
		}
	}
	w.t.Fatal("Wait neither waits nor returns")
	return false, nil
}
