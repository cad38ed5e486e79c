package server

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/settings"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// DetailNotFetched is the detail of a configuration a device has not
// fetched yet at its current version.
const DetailNotFetched = "not yet fetched by the device"

// statusOn is the status of c on a device from what the server holds
// (held, ok): pending unless the device fetched the current version.
func statusOn(c store.Configuration, deviceID string, held store.DeviceStatus, ok bool) store.DeviceStatus {
	if ok && held.Version == c.Version {
		return held
	}
	return store.DeviceStatus{ConfigID: c.ID, DeviceID: deviceID, Version: c.Version, Status: store.StatusPending, Detail: DetailNotFetched}
}

// stoppedStatus shows, on a device whose scripts are stopped (why), that
// a script configuration waiting to run waits for the brake's release.
func stoppedStatus(st store.DeviceStatus, why string) store.DeviceStatus {
	if why != "" && (st.Status == store.StatusPending || st.Status == store.StatusScheduled) {
		st.Detail = why
	}
	return st
}

// Summary counts the devices a configuration reaches by how it went.
type Summary struct {
	Reached   int `json:"reached"`
	Succeeded int `json:"succeeded"` // succeeded, or installed for Mobile@Work configurations
	Failed    int `json:"failed"`    // failed, timed_out, rejected or error
	Pending   int `json:"pending"`   // pending, scheduled or running
	// Superseded counts devices where a better Mobile@Work configuration wins.
	Superseded int            `json:"superseded"`
	ByStatus   map[string]int `json:"by_status"`
	Cancelled  int            `json:"cancelled"` // cancelled, or cancelling
}

func (sm *Summary) add(status string) {
	sm.Reached++
	sm.ByStatus[status]++
	switch status {
	case protocol.StatusSucceeded, store.StatusInstalled:
		sm.Succeeded++
	case protocol.StatusFailed, protocol.StatusTimedOut, protocol.StatusRejected, protocol.StatusError:
		sm.Failed++
	case store.StatusPending, store.StatusScheduled, store.StatusRunning:
		sm.Pending++
	case store.StatusSuperseded:
		sm.Superseded++
	case store.StatusCancelled, store.StatusCancelling:
		sm.Cancelled++
	}
}

// DeviceStatusRow is one device reached by a configuration, with its status.
type DeviceStatusRow struct {
	Device store.Device
	Status store.DeviceStatus
}

// ConfigDetail is what `config show` prints.
type ConfigDetail struct {
	Config store.Configuration
	// Settings are every key with its effective value (Mobile@Work).
	Settings map[string]string
	Script   *store.Script // script configurations
	Devices  []DeviceStatusRow
	Summary  Summary
}

// ConfigDetail returns a configuration with one row per device it reaches.
func (s *Server) ConfigDetail(ctx context.Context, ref string) (ConfigDetail, error) {
	c, err := s.Configuration(ctx, ref)
	if err != nil {
		return ConfigDetail{}, err
	}
	out := ConfigDetail{Config: c, Devices: []DeviceStatusRow{}, Summary: Summary{ByStatus: map[string]int{}}}
	switch c.Kind {
	case store.KindMobileAtWork:
		out.Settings = settings.Merge(c.Settings)
	case store.KindScript:
		sc, err := s.Store.Script(ctx, c.Script.ScriptID)
		if err != nil {
			return ConfigDetail{}, err
		}
		out.Script = &sc
	}
	devs, err := s.DevicesReached(ctx, c.Targets)
	if err != nil {
		return ConfigDetail{}, err
	}
	sts, err := s.Store.ConfigStatuses(ctx, c.ID)
	if err != nil {
		return ConfigDetail{}, err
	}
	held := map[string]store.DeviceStatus{} // by device
	for _, st := range sts {
		held[st.DeviceID] = st
	}
	stops, err := s.stops(ctx)
	if err != nil {
		return ConfigDetail{}, err
	}
	for _, d := range devs {
		h, ok := held[d.ID]
		st := statusOn(c, d.ID, h, ok)
		if c.Kind == store.KindScript {
			// A device's scripts.enabled is not known here without resolving
			// its configurations: device show has it.
			st = stoppedStatus(st, StoppedReason(stops, d.ID, protocol.Config{}))
		}
		out.Devices = append(out.Devices, DeviceStatusRow{Device: d, Status: st})
		out.Summary.add(st.Status)
	}
	return out, nil
}

// ConfigStatusRow is one configuration reaching a device, with its status.
type ConfigStatusRow struct {
	Config store.Configuration
	Status store.DeviceStatus
}

// DeviceDetail is what `device show` prints: the device's page.
type DeviceDetail struct {
	Device     store.Device
	UserName   string
	UserGroups []string
	// InEffect is the Mobile@Work configuration in effect; nil when none
	// reaches the device (and then it runs no script).
	InEffect       *store.Configuration
	Settings       map[string]string // the settings the device runs with
	Configurations []ConfigStatusRow // every configuration reaching it
	PackagerApps   []AppStatus       // nil until the device sent an inventory
	InventoryAt    time.Time
	Onboarding     *store.StoredOnboarding
	Results        []store.StoredResult // the newest, oldest first
	// ScriptsStopped is why the device runs no script now ("" when it
	// runs them): the brake on scripts, or scripts.enabled.
	ScriptsStopped string
}

// deviceResults is how many recent results the device page shows.
const deviceResults = 10

// DeviceDetail gathers one device's page.
func (s *Server) DeviceDetail(ctx context.Context, id string) (DeviceDetail, error) {
	d, err := s.Store.Device(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return DeviceDetail{}, invalid("no device %q; see `mobileatwork-server devices`", id)
	} else if err != nil {
		return DeviceDetail{}, err
	}
	out := DeviceDetail{Device: d, Configurations: []ConfigStatusRow{}}
	if d.User != "" {
		if u, err := s.Store.User(ctx, d.User); err == nil {
			out.UserName = u.Name
		}
	}
	dc, err := s.configsFor(ctx, d)
	if err != nil {
		return DeviceDetail{}, err
	}
	out.UserGroups = nonNil(dc.audience.UserGroups)
	out.InEffect, out.Settings = dc.inEffect, dc.settings()
	sts, err := s.Store.DeviceStatuses(ctx, d.ID)
	if err != nil {
		return DeviceDetail{}, err
	}
	held := map[string]store.DeviceStatus{} // by configuration
	for _, st := range sts {
		held[st.ConfigID] = st
	}
	stops, err := s.stops(ctx, "", d.ID)
	if err != nil {
		return DeviceDetail{}, err
	}
	out.ScriptsStopped = StoppedReason(stops, d.ID, settings.DeviceConfig(out.Settings))
	for _, c := range dc.all() {
		h, ok := held[c.ID]
		st := statusOn(c, d.ID, h, ok)
		if c.Kind == store.KindScript {
			st = stoppedStatus(st, out.ScriptsStopped)
		}
		out.Configurations = append(out.Configurations, ConfigStatusRow{Config: c, Status: st})
	}
	if inv, err := s.DeviceInventory(ctx, d.ID); err == nil {
		out.PackagerApps, out.InventoryAt = inv.PackagerApps, inv.ReceivedAt
	} else if !errors.Is(err, ErrNoInventory) {
		return DeviceDetail{}, err
	}
	if o, err := s.Store.Onboarding(ctx, d.ID); err == nil {
		out.Onboarding = &o
	} else if !errors.Is(err, store.ErrNotFound) {
		return DeviceDetail{}, err
	}
	rs, err := s.Store.Results(ctx, store.ResultFilter{DeviceID: d.ID, Limit: deviceResults})
	if err != nil {
		return DeviceDetail{}, err
	}
	out.Results = nonNil(rs)
	return out, nil
}

// ResultQuery is what `results` filters on; REFs are resolved here.
type ResultQuery struct {
	Device string
	Config string // REF
	Script string // REF
	Status string
	Since  time.Time
	Until  time.Time // received at or before: where a page of the newest ends
	Limit  int
	First  int // the oldest First only: where a page of the oldest ends
}

// Results lists results matching q.
func (s *Server) Results(ctx context.Context, q ResultQuery) ([]store.StoredResult, error) {
	out := []store.StoredResult{}
	err := s.EachResult(ctx, q, func(r store.StoredResult) error {
		out = append(out, r)
		return nil
	})
	return out, err
}

// EachResult hands fn the results matching q one at a time, as the store
// reads them, so a listing of the fleet's history stays in constant memory.
func (s *Server) EachResult(ctx context.Context, q ResultQuery, fn func(store.StoredResult) error) error {
	f := store.ResultFilter{DeviceID: q.Device, Status: q.Status, Since: q.Since, Until: q.Until, Limit: q.Limit, First: q.First}
	if q.Limit < 0 {
		return invalid("--limit must be 0 (no limit) or more, got %d", q.Limit)
	}
	if q.Status != "" && !validStatus(q.Status) {
		return invalid("--status %q: want one of %s", q.Status, strings.Join(protocol.ResultStatuses, ", "))
	}
	if q.Config != "" {
		c, err := s.Configuration(ctx, q.Config)
		if err != nil {
			return err
		}
		f.ConfigID = c.ID
	}
	if q.Script != "" {
		sc, err := s.Script(ctx, q.Script)
		if err != nil {
			return err
		}
		f.ScriptID = sc.ID
	}
	return s.Store.EachResult(ctx, f, fn)
}
