package routines

import (
	"context"
	"time"

	"github.com/jonboulle/clockwork"
)

// Sleep waits d on clock, or until ctx is done, and reports whether the
// wait ran its course. Loops that wait between steps use it rather than a
// ticker: the wait starts after each step, so a slow step never queues
// another, and a fake clock's BlockUntilContext tells a test that the loop
// is waiting (its timer exists only then).
func Sleep(ctx context.Context, clock clockwork.Clock, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.Chan():
		return true
	}
}
