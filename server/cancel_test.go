package server

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// cancelRig is a delivery rig whose device announces cancel (or not),
// reached by one run-once script configuration it has checked in for.
func cancelRig(t *testing.T, canCancel bool) (*deliveryRig, func() protocol.CheckinPayload, store.Configuration) {
	t.Helper()
	r, checkin := newDeliveryRig(t)
	if canCancel {
		r.req.Capabilities = []string{protocol.CapSchedule, protocol.CapCancel}
	}
	sc := addScript(t, r.s, "long", "sleep 600\n")
	c, _, err := r.s.Assign(t.Context(), "long", "", ScriptRequest{Script: sc.ID}, []string{"all"})
	if err != nil {
		t.Fatal(err)
	}
	if p := checkin(); len(p.Assignments) != 1 {
		t.Fatalf("%d assignments, want 1", len(p.Assignments))
	}
	if p := checkin(); !p.Unchanged {
		t.Fatal("not unchanged before the cancel")
	}
	return r, checkin, c
}

func deviceStatus(t *testing.T, s *Server, deviceID, configID string) store.DeviceStatus {
	t.Helper()
	sts, err := s.Store.DeviceStatuses(t.Context(), deviceID)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range sts {
		if st.ConfigID == configID {
			return st
		}
	}
	t.Fatalf("device %s has no status of %s", deviceID, configID)
	return store.DeviceStatus{}
}

func wakesPending(t *testing.T, s *Server) []string {
	t.Helper()
	ws, err := s.Store.PendingWakes(t.Context(), s.now())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, w := range ws {
		out = append(out, w.DeviceID)
	}
	return out
}

// A run that has not started is cancelled: the configuration leaves the
// payload (no unchanged answer hides that) and the device is woken.
func TestCancelPendingRun(t *testing.T) {
	r, checkin, c := cancelRig(t, true)
	rep, err := r.s.Cancel(t.Context(), c.Name, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Everywhere || !rep.Changed() || len(rep.Devices) != 1 || rep.Devices[0].Outcome != CancelCancelled {
		t.Fatalf("report %+v, want the device cancelled everywhere", rep)
	}
	if st := deviceStatus(t, r.s, "dev_rig", c.ID); st.Status != store.StatusCancelled || st.Detail != DetailCancelledBeforeRun {
		t.Fatalf("status %s (%s), want cancelled before it ran", st.Status, st.Detail)
	}
	if got, _ := r.s.Store.Configuration(t.Context(), c.ID); got.ExpiresAt.IsZero() || got.ExpiresAt.After(r.clock) {
		t.Fatalf("expiry %v, want now (%v)", got.ExpiresAt, r.clock)
	}
	if w := wakesPending(t, r.s); !slices.Equal(w, []string{"dev_rig"}) {
		t.Fatalf("wakes %v, want dev_rig", w)
	}
	// The configuration goes; an order to stop it stays while a run begun
	// before the cancel could still be going (the server may not have
	// heard of its start), then lapses, which no unchanged answer hides.
	order := []protocol.RunRef{{ID: c.ID, Version: c.Version}}
	if p := checkin(); p.Unchanged || len(p.Assignments) != 0 || !slices.Equal(p.Cancel, order) {
		t.Fatalf("after the cancel: unchanged=%v, %d assignments, cancel %v; want it gone, order %v", p.Unchanged, len(p.Assignments), p.Cancel, order)
	}
	if p := checkin(); !p.Unchanged {
		t.Fatal("not unchanged while the order holds")
	}
	r.clock = r.clock.Add(cancelWindow(protocol.DefaultConfig))
	if p := checkin(); p.Unchanged || len(p.Cancel) != 0 {
		t.Fatalf("once no run can be left: unchanged=%v, cancel %v; want the order gone", p.Unchanged, p.Cancel)
	}
	if st := deviceStatus(t, r.s, "dev_rig", c.ID); st.Status != store.StatusCancelled {
		t.Fatalf("a check-in changed the status to %s", st.Status)
	}
	// Twice is not an error, and changes nothing.
	rep, err = r.s.Cancel(t.Context(), c.ID, nil)
	if err != nil || rep.Changed() || rep.Devices[0].Outcome != CancelAlreadyCancelled {
		t.Fatalf("second cancel: %+v, %v; want already cancelled", rep.Devices, err)
	}
}

// A running run: cancelling, a cancel order to an agent that can stop it
// (and none to one that cannot), then the result's status.
func TestCancelRunningRun(t *testing.T) {
	for _, canCancel := range []bool{true, false} {
		name := map[bool]string{true: "agent stops it", false: "older agent"}[canCancel]
		t.Run(name, func(t *testing.T) {
			r, checkin, c := cancelRig(t, canCancel)
			s, ctx := r.s, t.Context()
			dev, _ := s.Store.Device(ctx, "dev_rig")
			if err := s.setRunStatus(ctx, dev, c.ID, c.Version, store.StatusRunning, "fetched", r.clock); err != nil {
				t.Fatal(err)
			}
			checkin()
			rep, err := s.Cancel(ctx, c.ID, []string{"dev_rig"})
			if err != nil {
				t.Fatal(err)
			}
			want, detail := CancelAskedToStop, DetailCancelling
			if !canCancel {
				want, detail = CancelRunsToEnd, DetailCancellingOldAgent
			}
			if rep.Everywhere || rep.Devices[0].Outcome != want {
				t.Fatalf("report %+v, want %s on the device", rep, want)
			}
			if st := deviceStatus(t, s, "dev_rig", c.ID); st.Status != store.StatusCancelling || st.Detail != detail {
				t.Fatalf("status %s (%s), want cancelling (%s)", st.Status, st.Detail, detail)
			}
			if got, _ := s.Store.Configuration(ctx, c.ID); !got.ExpiresAt.IsZero() {
				t.Fatalf("a cancel on one device expired the configuration (%v)", got.ExpiresAt)
			}
			p := checkin()
			wantOrders := []protocol.RunRef{{ID: c.ID, Version: c.Version}}
			if !canCancel {
				wantOrders = nil
			}
			if p.Unchanged || len(p.Assignments) != 0 || !slices.Equal(p.Cancel, wantOrders) {
				t.Fatalf("unchanged=%v, %d assignments, cancel %v; want it gone, orders %v", p.Unchanged, len(p.Assignments), p.Cancel, wantOrders)
			}
			if p := checkin(); !p.Unchanged {
				t.Fatal("not unchanged while the device stops it")
			}
			// The result arrives: its status replaces cancelling, the order goes.
			if err := s.setRunStatus(ctx, dev, c.ID, c.Version, protocol.StatusCancelled, "cancelled by the administrator", r.clock); err != nil {
				t.Fatal(err)
			}
			checkin()
			if got := r.held.Cancel; !slices.Equal(got, wantOrders) {
				t.Fatalf("after the result: cancel %v; want %v until no run can be left", got, wantOrders)
			}
			r.clock = r.clock.Add(cancelWindow(protocol.DefaultConfig))
			if p := checkin(); len(p.Cancel) != 0 || (canCancel && p.Unchanged) {
				t.Fatalf("once no run can be left: unchanged=%v, cancel %v; want no order", p.Unchanged, p.Cancel)
			}
			if st := deviceStatus(t, s, "dev_rig", c.ID); st.Status != protocol.StatusCancelled {
				t.Fatalf("status %s once the result arrived, want cancelled", st.Status)
			}
			if _, err := s.Cancel(ctx, c.ID, []string{"dev_rig"}); err != nil {
				t.Fatalf("cancel again: %v", err)
			}
		})
	}
}

// A cancel on some devices leaves the others alone, and a new version
// reaches the device again.
func TestCancelOnOneDevice(t *testing.T) {
	r, checkin, c := cancelRig(t, true)
	s, ctx := r.s, t.Context()
	benchDevice(t, s, "dev_other")
	if _, err := s.Cancel(ctx, c.ID, []string{"dev_rig", "dev_rig"}); err != nil {
		t.Fatal(err)
	}
	if p := checkin(); len(p.Assignments) != 0 {
		t.Fatalf("%d assignments after the cancel, want 0", len(p.Assignments))
	}
	other, _ := s.Store.Device(ctx, "dev_other")
	dc, err := s.configsFor(ctx, other)
	if err != nil {
		t.Fatal(err)
	}
	if cancelled, _ := s.cancelledHere(ctx, "dev_other", dc.scripts); cancelled[c.ID] {
		t.Fatal("the other device's run was cancelled too")
	}
	if _, err := s.UpdateScript(ctx, "long", ScriptUpdate{Body: []byte("sleep 1\n")}); err != nil {
		t.Fatal(err)
	}
	if p := checkin(); len(p.Assignments) != 1 || p.Assignments[0].Version != c.Version+1 {
		t.Fatalf("after a new version: %+v, want it sent again at version %d", p.Assignments, c.Version+1)
	}
}

// Every bad input of cancel is refused with one clear error and changes
// nothing.
func TestCancelRefusesBadInputAndChangesNothing(t *testing.T) {
	r, _, c := cancelRig(t, true)
	s, ctx := r.s, t.Context()
	benchDevice(t, s, "dev_other")
	if _, err := s.Distribute(ctx, c.ID, []string{"device:dev_rig"}, false); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, ref string
		devices   []string
		want      string
	}{
		{"Mobile@Work configuration", "default", nil, "only the runs of a script configuration can be cancelled"},
		{"unknown configuration", "nope", nil, "nope"},
		{"no reference", " ", nil, "a configuration is required"},
		{"unknown device", c.ID, []string{"dev_rig", "dev_nobody"}, `no device "dev_nobody"`},
		{"device not reached", c.ID, []string{"dev_rig", "dev_other"}, "does not reach device dev_other"},
		{"empty device", c.ID, []string{" "}, "give one device id"},
		{"list in one flag", c.ID, []string{"dev_rig,dev_other"}, "give one device id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Cancel(ctx, tt.ref, tt.devices)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one naming %q", err, tt.want)
			}
			if st := deviceStatus(t, s, "dev_rig", c.ID); st.Status == store.StatusCancelled {
				t.Fatal("a refused cancel cancelled the run")
			}
			if cs, _ := s.Store.Cancellations(ctx, "dev_rig"); len(cs) != 0 {
				t.Fatalf("a refused cancel recorded %+v", cs)
			}
			if got, _ := s.Store.Configuration(ctx, c.ID); !got.ExpiresAt.IsZero() {
				t.Fatal("a refused cancel expired the configuration")
			}
			if w := wakesPending(t, s); len(w) != 0 {
				t.Fatalf("a refused cancel woke %v", w)
			}
		})
	}
}

// The brake reaches the device in its settings whether it is tenant-wide,
// on the device or the key scripts.enabled, and no unchanged answer hides
// a stop or a resume.
func TestScriptsStopReachesThePayload(t *testing.T) {
	tests := []struct {
		name   string
		stop   func(s *Server) error
		resume func(s *Server) error
		why    string
	}{
		{"tenant-wide",
			func(s *Server) error { _, err := s.StopScripts(t.Context(), nil, "incident 42"); return err },
			func(s *Server) error { _, err := s.ResumeScripts(t.Context(), nil); return err },
			"scripts stopped tenant-wide: incident 42"},
		{"on the device",
			func(s *Server) error { _, err := s.StopScripts(t.Context(), []string{"dev_rig"}, ""); return err },
			func(s *Server) error { _, err := s.ResumeScripts(t.Context(), []string{"dev_rig"}); return err },
			"scripts stopped on this device: " + DefaultStopReason},
		{"scripts.enabled",
			func(s *Server) error {
				_, err := s.UpdateConfiguration(t.Context(), "default", ConfigUpdate{Settings: []string{"scripts.enabled=false"}})
				return err
			},
			func(s *Server) error {
				_, err := s.UpdateConfiguration(t.Context(), "default", ConfigUpdate{Settings: []string{"scripts.enabled=true"}})
				return err
			},
			"scripts.enabled is false"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, checkin, c := cancelRig(t, true)
			if err := tt.stop(r.s); err != nil {
				t.Fatal(err)
			}
			p := checkin()
			if p.Unchanged || !p.Config.ScriptsStopped || !strings.Contains(p.Config.ScriptsStoppedReason, tt.why) {
				t.Fatalf("after the stop: unchanged=%v, config %+v; want stopped, %q", p.Unchanged, p.Config, tt.why)
			}
			if p := checkin(); !p.Unchanged {
				t.Fatal("not unchanged while stopped")
			}
			d, err := r.s.DeviceDetail(t.Context(), "dev_rig")
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(d.ScriptsStopped, tt.why) {
				t.Errorf("device show says scripts %q, want %q", d.ScriptsStopped, tt.why)
			}
			for _, row := range d.Configurations {
				if row.Config.ID == c.ID && !strings.Contains(row.Status.Detail, tt.why) {
					t.Errorf("device show: %s is %s (%s), want the brake named", c.Name, row.Status.Status, row.Status.Detail)
				}
			}
			if err := tt.resume(r.s); err != nil {
				t.Fatal(err)
			}
			if p := checkin(); p.Unchanged || p.Config.ScriptsStopped || p.Config.ScriptsStoppedReason != "" {
				t.Fatalf("after the resume: unchanged=%v, config %+v; want scripts running", p.Unchanged, p.Config)
			}
		})
	}
}

// The devices concerned by the brake are woken; a per-device resume under
// a tenant-wide stop says the tenant's still holds.
func TestScriptsStopWakesAndReports(t *testing.T) {
	r, _, _ := cancelRig(t, true)
	s, ctx := r.s, t.Context()
	benchDevice(t, s, "dev_other")
	rep, err := s.StopScripts(ctx, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Tenant || rep.Reason != DefaultStopReason || len(rep.Devices) != 2 {
		t.Fatalf("report %+v, want the tenant, the default reason, both devices", rep)
	}
	if w := wakesPending(t, s); len(w) != 2 {
		t.Fatalf("wakes %v, want both devices", w)
	}
	again, err := s.StopScripts(ctx, nil, "")
	if err != nil || len(again.Devices) != 0 || len(again.Unchanged) != 1 {
		t.Fatalf("stop again: %+v, %v; want nothing changed", again, err)
	}
	res, err := s.ResumeScripts(ctx, []string{"dev_other"})
	if err != nil || !res.TenantStopped || len(res.Unchanged) != 1 {
		t.Fatalf("per-device resume under a tenant stop: %+v, %v", res, err)
	}
}

// Every bad input of the brake is refused with one clear error and
// changes nothing.
func TestScriptsStopRefusesBadInput(t *testing.T) {
	r, _, _ := cancelRig(t, true)
	s, ctx := r.s, t.Context()
	gen, _ := s.Store.Generation(ctx)
	tests := []struct {
		name string
		do   func() error
		want string
	}{
		{"unknown device", func() error { _, err := s.StopScripts(ctx, []string{"dev_rig", "dev_nobody"}, "x"); return err }, `no device "dev_nobody"`},
		{"line break", func() error { _, err := s.StopScripts(ctx, nil, "one\ntwo"); return err }, "one line"},
		{"too long", func() error { _, err := s.StopScripts(ctx, nil, strings.Repeat("x", maxStopReason+1)); return err }, "at most 256"},
		{"empty device", func() error { _, err := s.StopScripts(ctx, []string{""}, "x"); return err }, "give one device id"},
		{"resume unknown device", func() error { _, err := s.ResumeScripts(ctx, []string{"dev_nobody"}); return err }, `no device "dev_nobody"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.do()
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want an invalid request naming %q", err, tt.want)
			}
			if stops, _ := s.Store.ScriptsStops(ctx); len(stops) != 0 {
				t.Fatalf("a refused stop stored %+v", stops)
			}
			if g, _ := s.Store.Generation(ctx); g != gen {
				t.Fatal("a refused stop grew the generation")
			}
			if w := wakesPending(t, s); len(w) != 0 {
				t.Fatalf("a refused stop woke %v", w)
			}
		})
	}
}

// A run cancelled between its download and the news of its start (the
// server then thought it had not run) is asked to stop when its start
// notice arrives: cancelling, a wake, and a cancel order in the payload.
func TestStartOfACancelledRunAsksToStopIt(t *testing.T) {
	r, checkin, c := cancelRig(t, true)
	s, ctx := r.s, t.Context()
	if _, err := s.Cancel(ctx, c.ID, []string{"dev_rig"}); err != nil {
		t.Fatal(err)
	}
	if st := deviceStatus(t, s, "dev_rig", c.ID); st.Status != store.StatusCancelled {
		t.Fatalf("status %s before the notice, want cancelled", st.Status)
	}
	checkin() // the wake of the cancel: the device drops the configuration
	dev, err := s.Store.Device(ctx, "dev_rig")
	if err != nil {
		t.Fatal(err)
	}
	n := protocol.RunStarted{DeviceID: "dev_rig", RunID: "r1", AssignmentID: c.ID, AssignmentVersion: c.Version, StartedAt: r.clock}
	if err := s.markStarted(ctx, dev, c, n); err != nil {
		t.Fatal(err)
	}
	if st := deviceStatus(t, s, "dev_rig", c.ID); st.Status != store.StatusCancelling || st.Detail != DetailCancelling {
		t.Fatalf("status %s (%s) after the start notice, want cancelling (%s)", st.Status, st.Detail, DetailCancelling)
	}
	if w := wakesPending(t, s); !slices.Equal(w, []string{"dev_rig"}) {
		t.Fatalf("wakes %v, want dev_rig", w)
	}
	checkin()
	if p := r.held; len(p.Assignments) != 0 || !slices.Equal(p.Cancel, []protocol.RunRef{{ID: c.ID, Version: c.Version}}) {
		t.Fatalf("payload: %d assignments, cancel %v; want the cancel order only", len(p.Assignments), p.Cancel)
	}
	// Past the window the order still holds: the status says it runs.
	r.clock = r.clock.Add(cancelWindow(protocol.DefaultConfig))
	checkin()
	if p := r.held; !slices.Equal(p.Cancel, []protocol.RunRef{{ID: c.ID, Version: c.Version}}) {
		t.Fatalf("payload past the window: cancel %v; want the order while cancelling", p.Cancel)
	}
}
