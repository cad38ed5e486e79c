package server

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// maxStopReason bounds the reason of `stop-scripts --reason` (it reaches
// every device concerned inside its check-in) and of `device retire`.
const maxStopReason = 256

// DefaultStopReason is the reason of a stop given none.
const DefaultStopReason = "stopped by the administrator"

// StopReport is what `stop-scripts` or `resume-scripts` did.
type StopReport struct {
	// Tenant is true without --device: the whole tenant's switch.
	Tenant  bool
	Reason  string
	Devices []string // the devices concerned, which were asked to check in now
	// Unchanged lists the devices given that were already in that state
	// (or, Tenant, that the tenant was).
	Unchanged []string
	// TenantStopped is set by a per-device resume while the tenant-wide
	// stop still holds: those devices still run nothing.
	TenantStopped bool
}

// StopScripts applies the brake on scripts: tenant-wide without devices,
// else on those devices. They run nothing, and stop the script they run,
// from their next check-in, which they are asked to make now.
func (s *Server) StopScripts(ctx context.Context, deviceIDs []string, reason string) (StopReport, error) {
	reason, err := oneLineReason(reason, DefaultStopReason)
	if err != nil {
		return StopReport{}, err
	}
	ids, devs, err := s.brakeDevices(ctx, deviceIDs)
	if err != nil {
		return StopReport{}, err
	}
	now := s.now()
	rep := StopReport{Tenant: len(ids) == 0, Reason: reason, Devices: []string{}}
	scopes := ids
	if rep.Tenant {
		scopes = []string{""}
	}
	held, err := s.stops(ctx, scopes...)
	if err != nil {
		return StopReport{}, err
	}
	var stops []store.ScriptsStop
	for _, id := range scopes {
		if st, ok := held[id]; ok && st.Reason == reason {
			rep.Unchanged = append(rep.Unchanged, id)
			continue
		}
		stops = append(stops, store.ScriptsStop{DeviceID: id, Reason: reason, At: now})
	}
	if err := s.Store.StopScripts(ctx, stops); err != nil {
		return StopReport{}, err
	}
	if len(stops) > 0 {
		if err := s.audit(ctx, "scripts.stop", brakeObject(rep.Tenant, ids), "reason: "+reason); err != nil {
			return rep, err
		}
	}
	return s.wakeBrake(ctx, rep, devs, len(stops) > 0)
}

// ResumeScripts releases the brake: tenant-wide without devices, else on
// those devices.
func (s *Server) ResumeScripts(ctx context.Context, deviceIDs []string) (StopReport, error) {
	ids, devs, err := s.brakeDevices(ctx, deviceIDs)
	if err != nil {
		return StopReport{}, err
	}
	rep := StopReport{Tenant: len(ids) == 0, Devices: []string{}}
	scopes := ids
	if rep.Tenant {
		scopes = []string{""}
	}
	held, err := s.stops(ctx, append([]string{""}, ids...)...)
	if err != nil {
		return StopReport{}, err
	}
	if len(ids) > 0 {
		_, rep.TenantStopped = held[""]
	}
	var resume []string
	for _, id := range scopes {
		if _, ok := held[id]; !ok {
			rep.Unchanged = append(rep.Unchanged, id)
			continue
		}
		resume = append(resume, id)
	}
	if err := s.Store.ResumeScripts(ctx, resume); err != nil {
		return StopReport{}, err
	}
	if len(resume) > 0 {
		if err := s.audit(ctx, "scripts.resume", brakeObject(rep.Tenant, ids), "scripts: stopped → running"); err != nil {
			return rep, err
		}
	}
	return s.wakeBrake(ctx, rep, devs, len(resume) > 0)
}

// brakeObject is what a stop or resume concerns: the tenant, or devices.
func brakeObject(tenant bool, ids []string) string {
	if tenant {
		return "tenant"
	}
	return "devices " + strings.Join(ids, ",")
}

// oneLineReason checks a --reason: one line of printable text, at most
// maxStopReason bytes; def when none is given.
func oneLineReason(r, def string) (string, error) {
	r = strings.TrimSpace(r)
	switch {
	case r == "":
		return def, nil
	case len(r) > maxStopReason:
		return "", invalid("--reason is %d bytes: give at most %d", len(r), maxStopReason)
	case strings.ContainsFunc(r, unicode.IsControl):
		return "", invalid("--reason holds a control character or a line break: give one line of text")
	}
	return strings.ToValidUTF8(r, "\uFFFD"), nil
}

// brakeDevices reads --device ids (each an enrolled device) and returns
// them with the devices concerned: those, or without ids every enrolled
// device.
func (s *Server) brakeDevices(ctx context.Context, deviceIDs []string) ([]string, []store.Device, error) {
	ids, err := deviceList(deviceIDs)
	if err != nil {
		return nil, nil, err
	}
	var devs []store.Device
	if len(ids) == 0 {
		all, err := s.Store.Devices(ctx)
		if err != nil {
			return nil, nil, err
		}
		for _, d := range all {
			if !d.Gone() {
				devs = append(devs, d)
			}
		}
		return nil, devs, nil
	}
	for _, id := range ids {
		d, err := s.Store.Device(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil, invalid("no device %q; see `mobileatwork-server devices`", id)
		} else if err != nil {
			return nil, nil, err
		}
		devs = append(devs, d)
	}
	return ids, devs, nil
}

// wakeBrake asks the devices concerned to check in now, when the brake
// changed, and completes the report.
func (s *Server) wakeBrake(ctx context.Context, rep StopReport, devs []store.Device, changed bool) (StopReport, error) {
	if !changed {
		return rep, nil
	}
	for _, d := range devs {
		rep.Devices = append(rep.Devices, d.ID)
	}
	now := s.now()
	if err := s.Store.RequestWakes(ctx, rep.Devices, now, now.Add(WakeTTL)); err != nil {
		return rep, fmt.Errorf("done; the devices learn it at their next check-in, but waking them failed: %w", err)
	}
	return rep, nil
}

// stops returns the stops of these scopes ("" the tenant's) by scope.
func (s *Server) stops(ctx context.Context, scopes ...string) (map[string]store.ScriptsStop, error) {
	sts, err := s.Store.ScriptsStops(ctx, scopes...)
	if err != nil {
		return nil, err
	}
	out := make(map[string]store.ScriptsStop, len(sts))
	for _, st := range sts {
		out[st.DeviceID] = st
	}
	return out, nil
}

// ScriptsStops returns every stop in force, by device id ("" the tenant's).
func (s *Server) ScriptsStops(ctx context.Context) (map[string]store.ScriptsStop, error) {
	return s.stops(ctx)
}

// StoppedReason is why scripts are stopped on device id, given the stops
// in force (by scope) and the device's settings; "" when they run. The
// tenant's brake comes first, then the device's, then scripts.enabled.
func StoppedReason(stops map[string]store.ScriptsStop, id string, cfg protocol.Config) string {
	if st, ok := stops[""]; ok {
		return "scripts stopped tenant-wide: " + st.Reason
	}
	if st, ok := stops[id]; ok {
		return "scripts stopped on this device: " + st.Reason
	}
	if cfg.ScriptsStopped {
		return cfg.ScriptsStoppedReason
	}
	return ""
}

// applyStops sets the brake of device id into the payload's settings.
func (s *Server) applyStops(ctx context.Context, cfg *protocol.Config, id string) error {
	stops, err := s.stops(ctx, "", id)
	if err != nil {
		return fmt.Errorf("read scripts stops: %w", err)
	}
	if why := StoppedReason(stops, id, *cfg); why != "" {
		cfg.ScriptsStopped, cfg.ScriptsStoppedReason = true, why
	}
	return nil
}
