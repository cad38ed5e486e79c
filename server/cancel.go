package server

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// What `config cancel` did on one device.
const (
	CancelCancelled        = "cancelled"         // it had not run: it never will at this version
	CancelAskedToStop      = "asked to stop"     // it was running: the device stops it
	CancelRunsToEnd        = "runs to its end"   // it was running on an agent that cannot stop it
	CancelAlreadyFinished  = "already finished"  // a run-once that had run: nothing to cancel
	CancelAlreadyCancelled = "already cancelled" // an earlier cancel did it
)

// Details of the statuses a cancel gives.
const (
	DetailCancelledBeforeRun = "cancelled before it ran"
	DetailCancelledNoMore    = "cancelled: it runs no more at this version"
	DetailCancelling         = "cancelled while running: asked the device to stop it"
	DetailCancellingOldAgent = "cancelled while running: the device's agent cannot stop it, so it runs to its end"
)

// CancelOutcome is what a cancel did on one device.
type CancelOutcome struct {
	DeviceID string
	Outcome  string             // Cancel*
	Status   store.DeviceStatus // the status the device has now
}

// CancelReport is the outcome of `config cancel`.
type CancelReport struct {
	Config store.Configuration
	// Everywhere is true without --device: the configuration expired, so
	// it reaches no device that has not run it.
	Everywhere bool
	// Expired is true when this cancel made the configuration expire.
	Expired bool
	Devices []CancelOutcome // by device, as reached
}

// Changed tells whether the cancel changed anything: the configuration's
// expiry, or a run on a device.
func (r CancelReport) Changed() bool {
	return r.Expired || slices.ContainsFunc(r.Devices, func(o CancelOutcome) bool {
		return o.Outcome == CancelCancelled || o.Outcome == CancelAskedToStop || o.Outcome == CancelRunsToEnd
	})
}

// Cancel withdraws the pending runs of script configuration ref: on the
// devices given, at the configuration's current version, or, without
// devices, everywhere, the configuration expiring now. Runs not started
// are cancelled; running ones are stopped by the devices whose agents can
// (cancelling until their result arrives). The devices concerned are
// asked to check in now. A request refused changes nothing; cancelling
// again is not an error.
func (s *Server) Cancel(ctx context.Context, ref string, deviceIDs []string) (CancelReport, error) {
	c, err := s.Configuration(ctx, ref)
	if err != nil {
		return CancelReport{}, err
	}
	if c.Kind != store.KindScript {
		return CancelReport{}, invalid("%q is a Mobile@Work configuration: only the runs of a script configuration can be cancelled (withdraw it with `config distribute %s --to none`)", c.Name, c.ID)
	}
	ids, err := deviceList(deviceIDs)
	if err != nil {
		return CancelReport{}, err
	}
	reached, err := s.DevicesReached(ctx, c.Targets)
	if err != nil {
		return CancelReport{}, err
	}
	devs := reached
	if len(ids) > 0 {
		if devs, err = s.pickReached(ctx, c, reached, ids); err != nil {
			return CancelReport{}, err
		}
	}
	sts, err := s.Store.ConfigStatuses(ctx, c.ID)
	if err != nil {
		return CancelReport{}, err
	}
	held := map[string]store.DeviceStatus{}
	for _, st := range sts {
		held[st.DeviceID] = st
	}
	now := s.now()
	rep := CancelReport{Config: c, Everywhere: len(ids) == 0, Devices: []CancelOutcome{}}
	var cs []store.Cancellation
	var put []store.DeviceStatus
	var wake []string
	for _, d := range devs {
		h, ok := held[d.ID]
		st := statusOn(c, d.ID, h, ok)
		out := CancelOutcome{DeviceID: d.ID, Status: st}
		next := st
		next.UpdatedAt, next.NextRun = now, time.Time{}
		switch {
		case st.Status == store.StatusCancelled || st.Status == store.StatusCancelling:
			out.Outcome = CancelAlreadyCancelled
		case st.Status == store.StatusRunning && slices.Contains(d.Capabilities, protocol.CapCancel):
			out.Outcome, next.Status, next.Detail = CancelAskedToStop, store.StatusCancelling, DetailCancelling
		case st.Status == store.StatusRunning:
			out.Outcome, next.Status, next.Detail = CancelRunsToEnd, store.StatusCancelling, DetailCancellingOldAgent
		case finished(c, d, st):
			out.Outcome = CancelAlreadyFinished
		case ranOrRunning(st):
			out.Outcome, next.Status, next.Detail = CancelCancelled, store.StatusCancelled, DetailCancelledNoMore
		default:
			out.Outcome, next.Status, next.Detail = CancelCancelled, store.StatusCancelled, DetailCancelledBeforeRun
		}
		if out.Outcome != CancelAlreadyFinished {
			cs = append(cs, store.Cancellation{ConfigID: c.ID, DeviceID: d.ID, Version: c.Version, At: now})
		}
		if next.Status != st.Status {
			out.Status = next
			put = append(put, next)
			wake = append(wake, d.ID)
		}
		rep.Devices = append(rep.Devices, out)
	}
	var expires time.Time
	if rep.Everywhere && !expired(c, now) {
		expires, rep.Expired = now, true
		rep.Config.ExpiresAt = now
	}
	if err := s.Store.CancelRuns(ctx, c.ID, expires, cs, put); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return CancelReport{}, invalid("configuration %q or one of its devices was deleted meanwhile: nothing was cancelled; try again", c.Name)
		}
		return CancelReport{}, err
	}
	if rep.Changed() {
		if err := s.audit(ctx, "config.cancel", configObject(c), cancelSummary(rep)); err != nil {
			return rep, err
		}
	}
	if err := s.Store.RequestWakes(ctx, wake, now, now.Add(WakeTTL)); err != nil {
		return rep, fmt.Errorf("cancelled; the devices stop it at their next check-in, but waking them failed: %w", err)
	}
	return rep, nil
}

// cancelSummary says where a cancel withdrew runs.
func cancelSummary(rep CancelReport) string {
	var ids []string
	for _, o := range rep.Devices {
		if o.Outcome == CancelCancelled || o.Outcome == CancelAskedToStop || o.Outcome == CancelRunsToEnd {
			ids = append(ids, o.DeviceID)
		}
	}
	where := "devices: " + memberList(ids)
	if rep.Expired {
		where = "everywhere: expired; " + where
	}
	return fmt.Sprintf("version %d cancelled %s", rep.Config.Version, where)
}

// deviceList reads repeated --device ids: each one id, duplicates dropped.
func deviceList(in []string) ([]string, error) {
	var out []string
	for _, id := range in {
		if id = strings.TrimSpace(id); id == "" || strings.Contains(id, ",") {
			return nil, invalid("--device %q: give one device id per --device; see `mobileatwork-server devices`", id)
		}
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out, nil
}

// pickReached returns the devices of ids, each of which must be enrolled
// and reached by c.
func (s *Server) pickReached(ctx context.Context, c store.Configuration, reached []store.Device, ids []string) ([]store.Device, error) {
	byID := map[string]store.Device{}
	for _, d := range reached {
		byID[d.ID] = d
	}
	out := make([]store.Device, 0, len(ids))
	for _, id := range ids {
		d, ok := byID[id]
		if !ok {
			if _, err := s.Store.Device(ctx, id); errors.Is(err, store.ErrNotFound) {
				return nil, invalid("no device %q; see `mobileatwork-server devices`", id)
			} else if err != nil {
				return nil, err
			}
			return nil, invalid("configuration %q does not reach device %s: nothing to cancel there (see `mobileatwork-server config show %s`)", c.Name, id, c.ID)
		}
		out = append(out, d)
	}
	return out, nil
}

// cancelledHere lists the script configurations cancelled on the device
// at their current version: they are not sent to it.
func (s *Server) cancelledHere(ctx context.Context, deviceID string, scripts []store.Configuration) (map[string]bool, error) {
	cs, err := s.cancellationsHere(ctx, deviceID, scripts)
	if err != nil || len(cs) == 0 {
		return nil, err
	}
	out := make(map[string]bool, len(cs))
	for _, c := range cs {
		out[c.ConfigID] = true
	}
	return out, nil
}

// cancellationsHere are the device's cancellations of script
// configurations at their current version.
func (s *Server) cancellationsHere(ctx context.Context, deviceID string, scripts []store.Configuration) ([]store.Cancellation, error) {
	cs, err := s.Store.Cancellations(ctx, deviceID)
	if err != nil || len(cs) == 0 {
		return nil, err
	}
	version := map[string]int{}
	for _, c := range scripts {
		version[c.ID] = c.Version
	}
	var out []store.Cancellation
	for _, c := range cs {
		if v, ok := version[c.ConfigID]; ok && v == c.Version {
			out = append(out, c)
		}
	}
	return out, nil
}

// withoutCancelled drops the configurations cancelled on the device.
func withoutCancelled(scripts []store.Configuration, cancelled map[string]bool) []store.Configuration {
	if len(cancelled) == 0 {
		return scripts
	}
	out := make([]store.Configuration, 0, len(scripts))
	for _, c := range scripts {
		if !cancelled[c.ID] {
			out = append(out, c)
		}
	}
	return out
}

// cancelOrders are the runs the device must stop, for agents that can:
// its configurations cancelled while running, and those cancelled lately
// enough that a run started before the cancel may still be going though
// the server did not know it had started (its start notice raced the
// cancel). No run outlives its time limit, window, so a cancellation older
// than that orders nothing; until is when the newest order lapses, zero
// when none does.
func cancelOrders(d store.Device, held []store.DeviceStatus, cs []store.Cancellation, window time.Duration, now time.Time) (orders []protocol.RunRef, until time.Time) {
	if !slices.Contains(d.Capabilities, protocol.CapCancel) {
		return nil, time.Time{}
	}
	seen := map[protocol.RunRef]bool{}
	add := func(ref protocol.RunRef) {
		if !seen[ref] {
			seen[ref] = true
			orders = append(orders, ref)
		}
	}
	for _, st := range held {
		if st.Status == store.StatusCancelling {
			add(protocol.RunRef{ID: st.ConfigID, Version: st.Version})
		}
	}
	for _, c := range cs {
		if lapse := c.At.Add(window); now.Before(lapse) {
			add(protocol.RunRef{ID: c.ConfigID, Version: c.Version})
			until = earliest(until, lapse)
		}
	}
	slices.SortFunc(orders, func(a, b protocol.RunRef) int {
		if n := strings.Compare(a.ID, b.ID); n != 0 {
			return n
		}
		return a.Version - b.Version
	})
	return orders, until
}

// cancelWindow is how long after a cancel a run started before it may
// still run: the device's time limit and kill grace, and a minute for the
// moments between a script's download and its start.
func cancelWindow(c protocol.Config) time.Duration {
	return time.Duration(c.MaxExecutionSeconds+c.KillGraceSeconds)*time.Second + time.Minute
}

// cancelledOn tells whether c is cancelled on the device at its version;
// a failed read says no, as before the cancel.
func (s *Server) cancelledOn(ctx context.Context, deviceID string, c store.Configuration) bool {
	m, err := s.cancelledHere(ctx, deviceID, []store.Configuration{c})
	return err == nil && m[c.ID]
}
