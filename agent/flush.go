package agent

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"go.uber.org/zap"

	"github.com/mobileatwork/mobileatwork/protocol"
)

// Flush delivers queued results and removes those the server acknowledged.
// It returns how many were delivered.
//
// Batches are sized by the bytes they put on the wire, under the server's
// request limit. A batch the server refuses as a whole (400, 413) is split
// until the refused result stands alone; a result the server refuses,
// alone or by name in its answer, is set aside and replaced by a short
// error result with the reason, so the run is still reported and the others
// are never blocked behind it. Anything else (the network, a 5xx) stops the
// flush: the results stay queued for the next one.
func (a *Agent) Flush(ctx context.Context) (int, error) {
	a.saveUnsaved()
	delivered := 0
	// A second pass sends the short reports queued for refused results.
	for pass := 0; pass < 2; pass++ {
		pending, perr := a.outbox.Pending()
		if perr != nil {
			a.o.Log.Error("outbox", zap.Error(perr))
		}
		refusals := 0
		for len(pending) > 0 {
			n := batchLen(pending)
			d, err := a.deliver(ctx, pending[:n], &refusals)
			delivered += d
			if err != nil {
				return delivered, err
			}
			pending = pending[n:]
		}
		if refusals == 0 {
			break
		}
	}
	a.o.Log.Debug("results delivered", zap.Int("delivered", delivered))
	return delivered, nil
}

// batchLen is how many of the first results go in one request.
func batchLen(rs []protocol.Result) int {
	size := 0
	for i, r := range rs {
		size += protocol.EncodedSize(r) + 1
		if i > 0 && (size > protocol.MaxResultsBatchBytes || i >= protocol.MaxResultsBatchCount) {
			return i
		}
	}
	return len(rs)
}

// deliver sends one batch, splitting it when the server refuses it whole.
// Refused results are counted in *refusals.
func (a *Agent) deliver(ctx context.Context, batch []protocol.Result, refusals *int) (int, error) {
	ack, err := a.api.SendResults(ctx, batch)
	var he *HTTPError
	if errors.As(err, &he) && (he.Status == http.StatusBadRequest || he.Status == http.StatusRequestEntityTooLarge) {
		if len(batch) > 1 {
			half := len(batch) / 2
			d1, err := a.deliver(ctx, batch[:half], refusals)
			if err != nil {
				return d1, err
			}
			d2, err := a.deliver(ctx, batch[half:], refusals)
			return d1 + d2, err
		}
		reason := he.Message
		if reason == "" {
			reason = fmt.Sprintf("HTTP %d", he.Status)
		}
		*refusals++
		return 0, a.refused(batch[0], reason)
	}
	if err != nil {
		return 0, fmt.Errorf("deliver results: %w", err)
	}
	if err := a.outbox.Ack(ack.Accepted); err != nil {
		return 0, err
	}
	byID := map[string]protocol.Result{}
	for _, r := range batch {
		byID[r.RunID] = r
	}
	var errs []error
	for _, rf := range ack.Refused {
		if r, ok := byID[rf.RunID]; ok {
			*refusals++
			errs = append(errs, a.refused(r, rf.Reason))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return len(ack.Accepted), err
	}
	if kept := len(ack.Accepted) + len(ack.Refused); kept < len(batch) {
		return len(ack.Accepted), fmt.Errorf("deliver results: the server kept %d of %d; the rest stay queued", kept, len(batch))
	}
	return len(ack.Accepted), nil
}

// refused sets a result the server will never take aside and queues, in
// its place, an error result that says why. A refused replacement is
// dropped: there is nothing smaller to send.
func (a *Agent) refused(r protocol.Result, reason string) error {
	if strings.HasPrefix(r.Error, protocol.UndeliveredPrefix) {
		a.o.Log.Error("the server refused even the short report of an undelivered result; dropping it",
			zap.String("run_id", r.RunID), zap.String("reason", reason))
		return a.outbox.Quarantine(r.RunID, nil)
	}
	a.o.Log.Warn("the server refused a result; reporting the run without its output",
		zap.String("run_id", r.RunID), zap.String("assignment", r.AssignmentID), zap.String("reason", reason))
	u := protocol.UndeliveredResult(r, reason)
	return a.outbox.Quarantine(r.RunID, &u)
}
