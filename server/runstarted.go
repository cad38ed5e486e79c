package server

import (
	"context"
	"crypto/x509"
	"fmt"
	"net/http"
	"slices"
	"time"

	"go.uber.org/zap"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// handleRunStarted records that a run has started: the configuration is
// running on the device, unless a result of that run (or of a later one)
// is there already. A notice is best-effort and may arrive late; it never
// replaces a result.
func (s *Server) handleRunStarted(w http.ResponseWriter, r *http.Request, d store.Device, _ *x509.Certificate) {
	var n protocol.RunStarted
	if !s.decodeFrom(w, r, d, &n, &n.DeviceID) {
		return
	}
	if why := startedProblem(n); why != "" {
		s.fail(w, r, http.StatusBadRequest, "run start refused: "+why)
		return
	}
	c, ok := s.deviceScript(w, r, d, n.AssignmentID)
	if !ok {
		return
	}
	if err := s.markStarted(r.Context(), d, *c, n); err != nil {
		s.internal(w, r, "record run start", err)
		return
	}
	writeJSON(w, http.StatusOK, struct{}{})
}

// markStarted records n as the configuration's status on the device, unless
// a result supersedes it. A result stored while the status was written
// gets its status back, so that whichever order the two arrive in, the
// result wins.
func (s *Server) markStarted(ctx context.Context, d store.Device, c store.Configuration, n protocol.RunStarted) error {
	if c.Version != n.AssignmentVersion {
		return nil // an older version: its status is no longer shown
	}
	if res, late, err := s.supersedingResult(ctx, d.ID, n); err != nil || late {
		if late {
			s.Log.Debug("late run start ignored", zap.String("device", d.ID), zap.String("run_id", n.RunID), zap.String("result", res.RunID))
		}
		return err
	}
	if s.cancelledOn(ctx, d.ID, c) {
		return s.stopCancelledRun(ctx, d, c)
	}
	if err := s.setRunStatus(ctx, d, c.ID, c.Version, store.StatusRunning, startedDetail(n), s.now()); err != nil {
		return err
	}
	// A cancel that committed while the status was written is not undone.
	if s.cancelledOn(ctx, d.ID, c) {
		return s.stopCancelledRun(ctx, d, c)
	}
	res, late, err := s.supersedingResult(ctx, d.ID, n)
	if err != nil || !late {
		return err
	}
	status, detail := resultStatus(res.Result)
	return s.setRunStatus(ctx, d, c.ID, c.Version, status, detail, s.now())
}

// supersedingResult is the newest result of the configuration on the
// device when it makes notice n late: the run's own result, one of a later
// occurrence, or the final result of its occurrence.
func (s *Server) supersedingResult(ctx context.Context, deviceID string, n protocol.RunStarted) (store.StoredResult, bool, error) {
	latest, err := s.Store.LatestResults(ctx, deviceID, []string{n.AssignmentID})
	if err != nil {
		return store.StoredResult{}, false, err
	}
	res, ok := latest[n.AssignmentID]
	return res, ok && supersedes(res.Result, n), nil
}

// supersedes tells whether result r, of the same configuration, makes the
// start notice n late.
func supersedes(r protocol.Result, n protocol.RunStarted) bool {
	switch {
	case r.AssignmentVersion != n.AssignmentVersion:
		return r.AssignmentVersion > n.AssignmentVersion
	case r.RunID == n.RunID || r.Occurrence.After(n.Occurrence):
		return true
	case r.Occurrence.Before(n.Occurrence), r.Waiting != "":
		return false
	}
	// The same occurrence: only an attempt its result announced is news.
	return r.RetryAt.IsZero() || n.Attempt <= r.Attempt
}

// startedDetail is the status detail of a run that started.
func startedDetail(n protocol.RunStarted) string {
	at := n.StartedAt.UTC().Format(time.RFC3339)
	if n.Attempt > 0 {
		return fmt.Sprintf("attempt %d started at %s (run %s)", n.Attempt, at, n.RunID)
	}
	return fmt.Sprintf("started at %s (run %s)", at, n.RunID)
}

// startedProblem says why a start notice is malformed, or "".
func startedProblem(n protocol.RunStarted) string {
	switch {
	case n.RunID == "" || len(n.RunID) > 128:
		return "run id missing or longer than 128 bytes"
	case n.AssignmentID == "" || len(n.AssignmentID) > 128:
		return "assignment id missing or longer than 128 bytes"
	case n.AssignmentVersion < 1:
		return "assignment version must be 1 or more"
	case n.Attempt < 0 || n.Attempt > protocol.MaxRetries+1:
		return fmt.Sprintf("attempt must be 0 to %d", protocol.MaxRetries+1)
	case n.StartedAt.IsZero():
		return "started_at is required"
	}
	return ""
}

// stopCancelledRun answers the start of a run cancelled on the device: it
// was cancelled after the device fetched it and before its start was
// known, so the server thought it had not run. It is cancelling now, and
// the device is woken to fetch the order that stops it (an older agent
// lets it finish, as with any cancel of a running run).
func (s *Server) stopCancelledRun(ctx context.Context, d store.Device, c store.Configuration) error {
	detail := DetailCancellingOldAgent
	if slices.Contains(d.Capabilities, protocol.CapCancel) {
		detail = DetailCancelling
	}
	now := s.now()
	if err := s.setRunStatus(ctx, d, c.ID, c.Version, store.StatusCancelling, detail, now); err != nil {
		return err
	}
	return s.Store.RequestWakes(ctx, []string{d.ID}, now, now.Add(WakeTTL))
}
