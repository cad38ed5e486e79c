package onboarding

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/mobileatwork/mobileatwork/desktop"
	"github.com/mobileatwork/mobileatwork/internal/routines"
	"github.com/mobileatwork/mobileatwork/protocol"
)

// ErrPageGone is returned when the progress page stopped answering: the
// daemon restarted (its page has a new address) or stopped.
var ErrPageGone = errors.New("the onboarding progress page stopped answering")

// PageClient reads the progress from a page served by the daemon, with
// the page's secret, as the kiosk's browser does.
type PageClient struct {
	pageURL string
	status  string
	hc      *http.Client
}

// NewPageClient prepares a client of the page at pageURL (secret included).
func NewPageClient(pageURL string) (*PageClient, error) {
	u, err := url.Parse(pageURL)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return nil, fmt.Errorf("progress page address %q: want http://127.0.0.1:PORT/?s=SECRET", pageURL)
	}
	jar, _ := cookiejar.New(nil)
	status := url.URL{Scheme: u.Scheme, Host: u.Host, Path: "/api/status"}
	return &PageClient{pageURL: pageURL, status: status.String(), hc: &http.Client{Jar: jar, Timeout: 10 * time.Second}}, nil
}

// Status returns the progress the page shows. The first call presents the
// secret and keeps the cookie the page answers with.
func (c *PageClient) Status(ctx context.Context) (protocol.OnboardingReport, error) {
	var r protocol.OnboardingReport
	res, err := c.get(ctx, c.status)
	if err == nil && res.StatusCode == http.StatusForbidden {
		res.Body.Close()
		if res, err = c.get(ctx, c.pageURL); err == nil {
			res.Body.Close()
			res, err = c.get(ctx, c.status)
		}
	}
	if err != nil {
		return r, fmt.Errorf("read onboarding progress: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return r, fmt.Errorf("read onboarding progress: page answered %s", res.Status)
	}
	if err := json.NewDecoder(io.LimitReader(res.Body, 4<<20)).Decode(&r); err != nil {
		return r, fmt.Errorf("read onboarding progress: %w", err)
	}
	return r, nil
}

func (c *PageClient) get(ctx context.Context, u string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	return c.hc.Do(req)
}

// ShowOptions pace ShowUntilDone.
type ShowOptions struct {
	Every  time.Duration   // how often the status is read
	Linger time.Duration   // the kiosk stays this long after the end
	Gone   time.Duration   // the page is gone after failing this long
	Clock  clockwork.Clock // nil is the real clock
}

// ShowUntilDone shows pageURL in k until status reports a final state (the
// kiosk then closes after o.Linger, so the user reads the outcome) or the
// page stops answering for o.Gone. It returns nil when onboarding ended and
// ErrPageGone when the page went away while onboarding was not over. The
// status poll stops before it returns.
func ShowUntilDone(ctx context.Context, k desktop.Kiosk, pageURL string, status func(context.Context) (protocol.OnboardingReport, error), o ShowOptions) error {
	if o.Clock == nil {
		o.Clock = clockwork.NewRealClock()
	}
	g := routines.New(ctx)
	defer g.Close()
	// The kiosk closes when the poll ends, for whatever reason.
	showCtx, closeKiosk := context.WithCancel(g.Context())
	defer closeKiosk()
	result := make(chan error, 1)
	g.Go(func(ctx context.Context) {
		defer closeKiosk()
		result <- pollUntilDone(ctx, status, o)
	})
	if err := k.Show(showCtx, pageURL); err != nil {
		return err
	}
	return <-result
}

// pollUntilDone reads the status every o.Every until it is final (nil,
// after o.Linger) or has failed for o.Gone (ErrPageGone).
func pollUntilDone(ctx context.Context, status func(context.Context) (protocol.OnboardingReport, error), o ShowOptions) error {
	lastOK := o.Clock.Now()
	for {
		r, err := status(ctx)
		switch {
		case err == nil && r.Final():
			routines.Sleep(ctx, o.Clock, o.Linger)
			return nil
		case err == nil:
			lastOK = o.Clock.Now()
		case o.Clock.Since(lastOK) >= o.Gone:
			return fmt.Errorf("%w: %v", ErrPageGone, err)
		}
		if !routines.Sleep(ctx, o.Clock, o.Every) {
			return ctx.Err()
		}
	}
}
