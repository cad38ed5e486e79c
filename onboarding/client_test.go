package onboarding

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/mobileatwork/mobileatwork/internal/localweb"
	"github.com/mobileatwork/mobileatwork/internal/routines"
	"github.com/mobileatwork/mobileatwork/protocol"
)

// recordingKiosk records the page it showed and waits like the real one.
type recordingKiosk struct{ shown atomic.Value }

func (k *recordingKiosk) Show(ctx context.Context, u string) error {
	k.shown.Store(u)
	<-ctx.Done()
	return nil
}

// polled wraps status so that each answer is handed to the test before
// the poll goes on: the test then knows the poll waits for its next tick.
func polled(status func(context.Context) (protocol.OnboardingReport, error)) (func(context.Context) (protocol.OnboardingReport, error), <-chan error) {
	answers := make(chan error)
	return func(ctx context.Context) (protocol.OnboardingReport, error) {
		r, err := status(ctx)
		select {
		case answers <- err:
		case <-ctx.Done():
		}
		return r, err
	}, answers
}

// step moves clock on by d once a loop waits on it.
func step(t *testing.T, clock *clockwork.FakeClock, d time.Duration) {
	t.Helper()
	if err := clock.BlockUntilContext(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	clock.Advance(d)
}

func TestKioskFollowsTheDaemonsPage(t *testing.T) {
	clock := clockwork.NewFakeClockAt(enrolled.Add(time.Minute))
	d := newFakeDevice()
	m := newMachine(t, t.TempDir(), clock, d)
	plan, apps := samplePlan()
	m.Update(t.Context(), plan, apps[1:2]) // configurations and Slack
	srv, err := localweb.New(NewPage(m), localweb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	g := routines.New(t.Context())
	defer g.Close()
	g.Go(func(ctx context.Context) { srv.Serve(ctx) })

	c, err := NewPageClient(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.Status(t.Context())
	if err != nil || r.State != protocol.OnboardingRunning {
		t.Fatalf("status through the page = %+v, %v; want running", r.State, err)
	}
	bad, err := NewPageClient("http://" + srv.Addr().String() + "/?s=not-the-secret")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bad.Status(t.Context()); err == nil {
		t.Error("a wrong secret read the progress")
	}

	k := &recordingKiosk{}
	poll := clockwork.NewFakeClock()
	var sawFinal atomic.Bool // what the poll answered last read
	status, answers := polled(func(ctx context.Context) (protocol.OnboardingReport, error) {
		r, err := c.Status(ctx)
		sawFinal.Store(err == nil && r.Final())
		return r, err
	})
	done := make(chan error, 1)
	g.Go(func(ctx context.Context) {
		done <- ShowUntilDone(ctx, k, srv.URL(), status, ShowOptions{Every: time.Second, Gone: time.Minute, Clock: poll})
	})
	// Two polls see onboarding running: the kiosk stays for a third.
	for range 3 {
		select {
		case err := <-answers:
			if err != nil {
				t.Fatalf("poll: %v", err)
			}
		case err := <-done:
			t.Fatalf("kiosk closed while onboarding runs: %v", err)
		}
		step(t, poll, time.Second)
	}
	d.mu.Lock()
	d.profiles = map[string]bool{"com.example.wifi": true, "com.example.vpn": true}
	d.bundles["com.tinyspeck.slackmacgap"] = "/Applications/Slack.app"
	d.mu.Unlock()
	m.Tick(t.Context())
	// The poll the last step started may have read the page before the
	// tick: the kiosk closes at the first poll that reads it after.
	for {
		if err := <-answers; err != nil {
			t.Fatalf("poll: %v", err)
		}
		if sawFinal.Load() {
			break
		}
		step(t, poll, time.Second)
	}
	if err := <-done; err != nil {
		t.Fatalf("ShowUntilDone = %v, want nil once onboarding is done", err)
	}
	if k.shown.Load() != srv.URL() {
		t.Errorf("kiosk showed %v, want the page", k.shown.Load())
	}

	t.Run("page gone", func(t *testing.T) {
		poll := clockwork.NewFakeClock()
		status, answers := polled(func(context.Context) (protocol.OnboardingReport, error) {
			return protocol.OnboardingReport{}, errors.New("connection refused")
		})
		done := make(chan error, 1)
		go func() {
			done <- ShowUntilDone(t.Context(), &recordingKiosk{}, srv.URL(), status, ShowOptions{Every: time.Second, Gone: 20 * time.Second, Clock: poll})
		}()
		// One poll a second from 0 s: the 21st, at 20 s, gives up.
		for polls := 1; polls <= 21; polls++ {
			select {
			case <-answers:
			case err := <-done:
				t.Fatalf("page given up after %d polls (%v), want 21 (20 s)", polls-1, err)
			}
			if polls < 21 {
				step(t, poll, time.Second)
			}
		}
		select {
		case <-answers:
			t.Fatal("still polling after the page failed for 20 s")
		case err := <-done:
			if !errors.Is(err, ErrPageGone) {
				t.Errorf("ShowUntilDone = %v, want ErrPageGone", err)
			}
		}
	})
}
