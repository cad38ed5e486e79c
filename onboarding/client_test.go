package onboarding

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/internal/localweb"
	"github.com/mobileatwork/mobileatwork/protocol"
)

// recordingKiosk records the page it showed and waits like the real one.
type recordingKiosk struct{ shown atomic.Value }

func (k *recordingKiosk) Show(ctx context.Context, u string) error {
	k.shown.Store(u)
	<-ctx.Done()
	return nil
}

func TestKioskFollowsTheDaemonsPage(t *testing.T) {
	clock := &fakeClock{now: enrolled.Add(time.Minute)}
	d := newFakeDevice()
	m := newMachine(t, t.TempDir(), clock, d)
	plan, apps := samplePlan()
	m.Update(t.Context(), plan, apps[1:2]) // configurations and Slack
	srv, err := localweb.New(NewPage(t.Context(), m), localweb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(t.Context())
	defer stop()
	go srv.Serve(ctx)

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
	done := make(chan error, 1)
	go func() {
		done <- ShowUntilDone(t.Context(), k, srv.URL(), c.Status, 10*time.Millisecond, 0, time.Minute)
	}()
	time.Sleep(50 * time.Millisecond)
	select {
	case err := <-done:
		t.Fatalf("kiosk closed while onboarding runs: %v", err)
	default:
	}
	d.mu.Lock()
	d.profiles = map[string]bool{"com.example.wifi": true, "com.example.vpn": true}
	d.bundles["com.tinyspeck.slackmacgap"] = "/Applications/Slack.app"
	d.mu.Unlock()
	m.Tick(t.Context())
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("ShowUntilDone = %v, want nil once onboarding is done", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("kiosk still shown after onboarding ended")
	}
	if k.shown.Load() != srv.URL() {
		t.Errorf("kiosk showed %v, want the page", k.shown.Load())
	}

	t.Run("page gone", func(t *testing.T) {
		fail := func(context.Context) (protocol.OnboardingReport, error) {
			return protocol.OnboardingReport{}, errors.New("connection refused")
		}
		err := ShowUntilDone(t.Context(), &recordingKiosk{}, srv.URL(), fail, time.Millisecond, 0, 20*time.Millisecond)
		if !errors.Is(err, ErrPageGone) {
			t.Errorf("ShowUntilDone = %v, want ErrPageGone", err)
		}
	})
}
