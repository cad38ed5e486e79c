package loadgen

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/protocol/schedule"
	"github.com/mobileatwork/mobileatwork/server"
	"github.com/mobileatwork/mobileatwork/server/distribution"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// tenantDir is where a local run keeps its tenant, beside the devices
// enrolled in it, so both are reused by the next run.
const tenantDir = "server"

// Scenario is the script configurations the generator keeps in a local
// tenant. They are the generator's own (ids starting cfgPrefix): a run
// makes the tenant hold exactly these, leaving everything else alone.
type Scenario struct {
	// ToAll script configurations are distributed to every device.
	ToAll int `json:"script_configs_to_all"`
	// PerDevice one-device configurations go to the fleet's devices in
	// turn: with 10,000 and 2,000 devices, five each.
	PerDevice int `json:"one_device_configs"`
}

func (sc Scenario) check() error {
	switch {
	case sc.ToAll < 0:
		return fmt.Errorf("--configs-to-all must be 0 or more, got %d", sc.ToAll)
	case sc.PerDevice < 0:
		return fmt.Errorf("--device-configs must be 0 or more, got %d", sc.PerDevice)
	}
	return nil
}

const (
	cfgPrefix  = "cfg_mawload_"
	scriptName = "mawload"
)

// initTenant creates the tenant in data unless it exists. The default
// Mobile@Work configuration goes to every device: without one, devices
// run no script.
func initTenant(ctx context.Context, data string) error {
	if _, err := os.Stat(filepath.Join(data, "pki")); err == nil {
		return nil
	}
	s, err := server.Init(data, "mawload", nil)
	if err != nil {
		return err
	}
	defer s.Close()
	_, err = s.Distribute(ctx, "default", []string{"all"}, false)
	return err
}

// createToken makes one enrollment token for uses devices.
func createToken(ctx context.Context, data string, uses int) (string, error) {
	s, err := server.Open(data)
	if err != nil {
		return "", err
	}
	defer s.Close()
	return s.CreateToken(ctx, "", uses, 24*time.Hour)
}

// applyScenario makes the generator's configurations in the tenant those
// of sc, for the fleet deviceIDs: missing ones are added and others
// deleted, through the store, which is quick enough for 10,000. It
// reports how many it changed.
func applyScenario(ctx context.Context, data string, deviceIDs []string, sc Scenario) (int, error) {
	s, err := server.Open(data)
	if err != nil {
		return 0, err
	}
	defer s.Close()
	script, err := s.Script(ctx, scriptName)
	if err != nil {
		if script, err = s.AddScript(ctx, scriptName, "load generator", []byte("#!/bin/sh\necho ok\n"), nil); err != nil {
			return 0, err
		}
	}
	want := map[string]store.Configuration{}
	now := time.Now().UTC()
	add := func(id string, t distribution.Target, n int) {
		want[id] = store.Configuration{
			ID: id, Kind: store.KindScript, Name: strings.ReplaceAll(id, "_", " "), Version: 1,
			Script:  store.ScriptSettings{ScriptID: script.ID, RunAs: protocol.RunAsRoot, Schedule: schedule.Spec{Kind: schedule.Once}},
			Targets: []distribution.Target{t}, CreatedAt: now.Add(time.Duration(n)), UpdatedAt: now,
		}
	}
	for i := range sc.ToAll {
		add(fmt.Sprintf("%sall_%04d", cfgPrefix, i), distribution.Target{Kind: distribution.All}, i)
	}
	for i := range sc.PerDevice {
		add(fmt.Sprintf("%sdev_%06d", cfgPrefix, i), distribution.Target{Kind: distribution.Device, Value: deviceIDs[i%len(deviceIDs)]}, sc.ToAll+i)
	}
	have, err := s.Store.Configurations(ctx)
	if err != nil {
		return 0, err
	}
	changed := 0
	for _, c := range have {
		if !strings.HasPrefix(c.ID, cfgPrefix) {
			continue
		}
		if w, ok := want[c.ID]; ok && slices.Equal(w.Targets, c.Targets) && c.Script.ScriptID == script.ID {
			delete(want, c.ID)
			continue
		}
		if err := s.Store.DeleteConfiguration(ctx, c.ID); err != nil {
			return changed, fmt.Errorf("delete %s: %w", c.ID, err)
		}
		changed++
	}
	for _, id := range slices.Sorted(maps.Keys(want)) {
		if err := s.Store.CreateConfiguration(ctx, want[id]); err != nil {
			return changed, err
		}
		changed++
	}
	return changed, nil
}
