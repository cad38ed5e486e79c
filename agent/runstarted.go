package agent

import (
	"context"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/mobileatwork/mobileatwork/protocol"
)

// startedTimeout bounds the start notice: a script never waits longer for
// it.
const startedTimeout = 3 * time.Second

// RunStarted tells the server that a run has started: one request, not
// retried, within startedTimeout.
func (c *Client) RunStarted(ctx context.Context, n protocol.RunStarted) error {
	ctx, cancel := context.WithTimeout(ctx, startedTimeout)
	defer cancel()
	cur := c.cur.Load()
	n.DeviceID = cur.id.DeviceID
	once := &http.Client{Transport: cur.wake.Transport, Timeout: startedTimeout}
	_, err := do(ctx, once, "POST", c.url(protocol.PathRunStarted), n, 64<<10)
	return err
}

// reportStarted posts the start of the run of res, best-effort: its
// result, queued durably, supersedes it, so a notice that fails is only
// logged.
func (a *Agent) reportStarted(ctx context.Context, res protocol.Result) {
	err := a.api.RunStarted(ctx, protocol.RunStarted{
		RunID: res.RunID, AssignmentID: res.AssignmentID, AssignmentVersion: res.AssignmentVersion,
		Occurrence: res.Occurrence, Attempt: res.Attempt, StartedAt: a.o.Clock.Now().UTC(),
	})
	if err != nil {
		a.o.Log.Debug("the server was not told the run started; its result will tell", zap.String("run_id", res.RunID), zap.Error(err))
	}
}
