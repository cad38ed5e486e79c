package agent

import (
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/zap"

	"github.com/mobileatwork/mobileatwork/internal/routines"
	"github.com/mobileatwork/mobileatwork/protocol"
)

// The wake channel: one request held open on the server, which answers
// "nothing" (204) after about a minute or "check in now" (200).
const (
	// wakeTimeout bounds one wake request: beyond the server's hold (at
	// most 54 s by default), so only a lost connection reaches it.
	wakeTimeout = 90 * time.Second
	// wakeMinGap spaces wake requests that are answered at once (a server
	// that does not hold them, or a forged one), so none makes a busy loop.
	wakeMinGap = time.Second
	// Backoff of a failed wake request: from wakeBackoffMin, doubling, up
	// to wakeBackoffMax; a Retry-After is honoured up to wakeRetryAfterMax.
	wakeBackoffMin    = time.Second
	wakeBackoffMax    = 5 * time.Minute
	wakeRetryAfterMax = 10 * time.Minute
	// wakeCheckinGap is the least time between two check-ins a wake
	// brings about: a storm of wakes costs one check-in per gap.
	wakeCheckinGap = 5 * time.Second
)

// Wake holds the device's wake request until the server answers it.
// woke is true when the server said to check in now; a refusal is an
// error, with the server's Retry-After when it gave one. A 200 is all
// that counts: the body is not read into anything, so nothing a forged
// answer carries can act on the agent.
func (c *Client) Wake(ctx context.Context) (woke bool, retryAfter time.Duration, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url(protocol.PathWake), nil)
	if err != nil {
		return false, 0, err
	}
	resp, err := c.cur.Load().wake.Do(req)
	if err != nil {
		return false, 0, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, errorBody))
	switch resp.StatusCode {
	case http.StatusOK:
		return true, 0, nil
	case http.StatusNoContent:
		return false, 0, nil
	}
	return false, parseRetryAfter(resp.Header.Get("Retry-After")), answerError(resp.StatusCode, b)
}

// parseRetryAfter reads a Retry-After of seconds; 0 when there is none
// (an HTTP date is not used by the server, and not trusted from others).
func parseRetryAfter(v string) time.Duration {
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return 0
	}
	return min(time.Duration(n)*time.Second, wakeRetryAfterMax)
}

// waker is what wakeLoop holds the channel with: the Client.
type waker interface {
	Wake(ctx context.Context) (bool, time.Duration, error)
}

// wakeLoop holds the wake channel until ctx ends and, at each "check in
// now", leaves a token in wake (one at most: wakes coalesce). A channel
// that fails is tried again with jittered backoff; meanwhile the daemon
// checks in on its schedule as ever.
func wakeLoop(ctx context.Context, clock clockwork.Clock, w waker, wake chan<- struct{}, log *zap.Logger) {
	failures := 0
	for {
		start := clock.Now()
		woke, retryAfter, err := w.Wake(ctx)
		if ctx.Err() != nil {
			return
		}
		var pause time.Duration
		if err != nil {
			failures++
			pause = wakeBackoff(failures, retryAfter)
			if failures == 1 {
				log.Info("wake channel down: checking in on schedule", zap.Error(err), zap.Duration("retry_in", pause))
			}
		} else {
			if failures > 0 {
				log.Info("wake channel up again")
			}
			failures = 0
			if woke {
				select {
				case wake <- struct{}{}:
				default: // one is pending already
				}
			}
			pause = wakeMinGap - clock.Since(start)
		}
		if pause > 0 && !routines.Sleep(ctx, clock, pause) {
			return
		}
	}
}

// wakeBackoff is the pause after the failures-th failure in a row: the
// server's Retry-After with up to a tenth more, else exponential backoff
// with jitter, so agents that lost their server do not return together.
func wakeBackoff(failures int, retryAfter time.Duration) time.Duration {
	if retryAfter > 0 {
		return retryAfter + rand.N(retryAfter/10+1)
	}
	return doubling(wakeBackoffMin, wakeBackoffMax, failures)
}

// sleepOrWake sleeps d unless a token arrives in wake (woke) or in again
// (what is due and the sleep are to be looked at again) first; ok is false
// when ctx ended.
func sleepOrWake(ctx context.Context, clock clockwork.Clock, d time.Duration, wake, again <-chan struct{}) (ok, woke bool) {
	t := clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false, false
	case <-t.Chan():
		return true, false
	case <-wake:
		return true, true
	case <-again:
		return true, false
	}
}

// wokenCheckin is when the daemon checks in after a wake: now, or once
// wakeCheckinGap has passed since the last check-in, and never later
// than it was due anyway.
func wokenCheckin(now, last, due time.Time) time.Time {
	t := last.Add(wakeCheckinGap)
	if t.Before(now) {
		t = now
	}
	if due.Before(t) {
		return due
	}
	return t
}
