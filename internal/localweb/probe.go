package localweb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"time"
)

// ErrPageDown is returned by Probe for a page that does not answer as a
// live page of the agent does.
var ErrPageDown = errors.New("the page does not answer")

// probeTimeout bounds one probe: a loopback page answers in milliseconds.
const probeTimeout = 5 * time.Second

// Probe opens pageURL (secret included) as a browser would and reports
// whether the page answers. Before it shows a window, the user's side
// asks: an offer can outlive the server that made it (a daemon killed
// before it withdrew it), and a window on a dead page helps nobody.
func Probe(ctx context.Context, pageURL string) error {
	u, err := url.Parse(pageURL)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return fmt.Errorf("%w: address %q is not a local page", ErrPageDown, pageURL)
	}
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: probeTimeout}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, pageURL, nil)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrPageDown, err)
	}
	res, err := hc.Do(req) // follows the redirect that trades the secret for the cookie
	if err != nil {
		return fmt.Errorf("%w: %v", ErrPageDown, err)
	}
	defer res.Body.Close()
	io.Copy(io.Discard, io.LimitReader(res.Body, 1<<20))
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("%w: %s", ErrPageDown, res.Status)
	}
	return nil
}
