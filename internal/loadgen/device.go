package loadgen

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/mobileatwork/mobileatwork/agent"
	"github.com/mobileatwork/mobileatwork/internal/atomicfile"
	"github.com/mobileatwork/mobileatwork/internal/version"
	"github.com/mobileatwork/mobileatwork/inventory"
	"github.com/mobileatwork/mobileatwork/protocol"
)

// knownFile keeps, per device, the assignments it has been sent, so a
// later run can run one again when the mix asks for a due script even
// though the server no longer sends a finished run-once configuration.
const knownFile = "mawload-known.json"

// device is one simulated agent.
type device struct {
	index int
	dir   string
	id    *agent.Identity
	api   *agent.Client
	facts protocol.Facts
	busy  atomic.Bool // one check-in at a time, as an agent
	// held is the payload of the last check-in, named to the server as an
	// agent does, so that a quiet check-in is answered "unchanged".
	held *protocol.CheckinPayload

	mu    sync.Mutex
	known []protocol.Assignment // the latest of each assignment sent to it
	ran   map[string]int        // assignment id: version run in this process
	inv   int                   // inventory uploads, to vary the content
}

// loadDevices opens devices 0 to n-1 of the state directory. A non-empty
// server replaces the URL they enrolled with (a local server's port
// changes from run to run).
func loadDevices(state string, n int, server string) ([]*device, error) {
	ids, err := enrolled(state, n)
	if err != nil {
		return nil, err
	}
	count := 0
	for _, id := range ids {
		if id != nil {
			count++
		}
	}
	if count < n {
		return nil, fmt.Errorf("%s holds %d of the %d devices asked for: enroll them first with `mawload enroll --devices %d`", state, count, n, n)
	}
	devs := make([]*device, n)
	for i, id := range ids {
		if server != "" {
			id.ServerURL = server
		}
		// Agents keep their TLS sessions across cycles; so does each device.
		api, err := agent.NewClient(id, 0, tls.NewLRUClientSessionCache(2))
		if err != nil {
			return nil, fmt.Errorf("device %d: %w", i, err)
		}
		d := &device{index: i, dir: deviceDir(state, i), id: id, api: api, facts: deviceFacts(i), ran: map[string]int{}}
		if err := atomicfile.ReadJSON(filepath.Join(d.dir, knownFile), &d.known); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("device %d: %w", i, err)
		}
		devs[i] = d
	}
	return devs, nil
}

// Mix is what a check-in brings beyond itself. Assignments the server
// sends that the device has not run are always run; the shares add runs
// and uploads at random.
type Mix struct {
	// ScriptShare is the share of check-ins, with nothing new, that run
	// one of the device's assignments again (a recurring script's
	// occurrence): the script download and the result upload.
	ScriptShare float64 `json:"script_share"`
	// InventoryShare is the share of check-ins followed by an inventory
	// upload with changed content.
	InventoryShare float64 `json:"inventory_share"`
	// Reconnect closes the device's connections after each check-in, as
	// at intervals longer than the agent keeps an idle connection (90 s).
	Reconnect bool `json:"reconnect"`
}

func (m Mix) check() error {
	for _, s := range []struct {
		flag string
		v    float64
	}{{"--script-share", m.ScriptShare}, {"--inventory-share", m.InventoryShare}} {
		if !(s.v >= 0 && s.v <= 1) {
			return fmt.Errorf("%s must be between 0 and 1, got %v", s.flag, s.v)
		}
	}
	return nil
}

// session is one check-in of d and what follows from it.
func (d *device) session(ctx context.Context, clock clockwork.Clock, mix Mix, rec *recorder) {
	defer func() {
		if mix.Reconnect {
			d.api.CloseIdleConnections()
		}
	}()
	start := clock.Now()
	req := protocol.CheckinRequest{
		AgentVersion: version.Version, Capabilities: version.Capabilities(), Facts: d.facts,
		MaxResponseBytes: protocol.MaxResponseBody,
	}
	p, unchanged, err := d.api.Checkin(ctx, req, d.held, clock.Now)
	rec.op(opCheckin, clock.Since(start), err)
	if err != nil {
		return
	}
	if unchanged {
		rec.count(countUnchanged, 1)
	}
	d.held = &p
	due, rerun := d.due(p), false
	if len(due) == 0 && rand.Float64() < mix.ScriptShare {
		if a, ok := d.pickKnown(); ok {
			due, rerun = []protocol.Assignment{a}, true
			rec.count(countReruns, 1)
		}
	}
	d.run(ctx, clock, due, rerun, rec)
	if rand.Float64() < mix.InventoryShare {
		start := clock.Now()
		_, err := d.api.SendInventory(ctx, d.inventory(clock.Now()))
		rec.op(opInventory, clock.Since(start), err)
	}
}

// due lists the assignments of p this device has not run at their version
// in this process, and remembers every assignment it was sent.
func (d *device) due(p protocol.CheckinPayload) []protocol.Assignment {
	if p.Configuration == nil {
		return nil // an agent runs nothing without a Mobile@Work configuration
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	var due []protocol.Assignment
	changed := false
	for _, a := range p.Assignments {
		if v, ok := d.ran[a.ID]; !ok || v != a.Version {
			due = append(due, a)
		}
		i := 0
		for i < len(d.known) && d.known[i].ID != a.ID {
			i++
		}
		switch {
		case i == len(d.known):
			d.known, changed = append(d.known, a), true
		case d.known[i].Version != a.Version || d.known[i].BlobURL != a.BlobURL:
			d.known[i], changed = a, true
		}
	}
	if changed {
		// Rare (a new assignment), and only for the next run's benefit.
		atomicfile.WriteJSON(filepath.Join(d.dir, knownFile), d.known, 0o600)
	}
	return due
}

// pickKnown is one of the assignments the device was sent, at random.
func (d *device) pickKnown() (protocol.Assignment, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.known) == 0 {
		return protocol.Assignment{}, false
	}
	return d.known[rand.IntN(len(d.known))], true
}

// forget drops an assignment the server no longer has for the device.
func (d *device) forget(id string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.known = slices.DeleteFunc(d.known, func(a protocol.Assignment) bool { return a.ID == id })
	atomicfile.WriteJSON(filepath.Join(d.dir, knownFile), d.known, 0o600)
}

// run downloads, verifies and "runs" each assignment, then uploads the
// results in one batch as the agent's flush does. A rerun of a remembered
// assignment whose configuration is gone (404) is forgotten, not counted
// as an error: the server was right to refuse it.
func (d *device) run(ctx context.Context, clock clockwork.Clock, due []protocol.Assignment, rerun bool, rec *recorder) {
	var results []protocol.Result
	for _, a := range due {
		start := clock.Now()
		blob, err := d.api.FetchBlob(ctx, a)
		if he := (*agent.HTTPError)(nil); rerun && errors.As(err, &he) && he.Status == http.StatusNotFound {
			d.forget(a.ID)
			rec.count(countStale, 1)
			continue
		}
		rec.op(opBlob, clock.Since(start), err)
		if err != nil {
			continue
		}
		now := clock.Now().UTC()
		res := protocol.Result{
			RunID: agent.NewRunID(now), DeviceID: d.id.DeviceID, AssignmentID: a.ID, AssignmentVersion: a.Version,
			ScriptID: a.ScriptID, StartedAt: now, FinishedAt: now.Add(5 * time.Millisecond), DurationMS: 5,
		}
		sc, err := d.api.OpenAssignment(a, blob)
		if err != nil {
			rec.op(opVerify, 0, err)
			res.Status, res.Error = protocol.StatusRejected, err.Error()
		} else {
			res.Status, res.ScriptSHA256 = protocol.StatusSucceeded, protocol.SHA256Hex(sc.Body)
			res.Stdout, res.StdoutBytes = "ok\n", 3
		}
		results = append(results, res)
	}
	if len(results) == 0 {
		return
	}
	start := clock.Now()
	ack, err := d.api.SendResults(ctx, results)
	if err == nil && len(ack.Accepted) != len(results) {
		err = fmt.Errorf("%w: %d of %d results accepted", errNotAcknowledged, len(ack.Accepted), len(results))
	}
	rec.op(opResults, clock.Since(start), err)
	if err != nil {
		return
	}
	rec.count(countResults, len(results))
	d.mu.Lock()
	for _, a := range due {
		d.ran[a.ID] = a.Version
	}
	d.mu.Unlock()
}

var errNotAcknowledged = errors.New("results not acknowledged")

// Receipts and apps of a simulated inventory: about what a managed Mac
// holds.
const (
	inventoryReceipts = 150
	inventoryApps     = 80
)

// installedAt is when the simulated receipts were installed: fixed, as on
// a Mac, so an upload differs from the last one by the one app changed.
var installedAt = time.Date(2026, time.January, 5, 9, 0, 0, 0, time.UTC)

// inventory is the device's report, with one app's version changed at
// each upload so the server stores it as new.
func (d *device) inventory(now time.Time) protocol.InventoryReport {
	d.mu.Lock()
	d.inv++
	seq := d.inv
	d.mu.Unlock()
	var rep inventory.Report
	for i := range inventoryReceipts {
		rep.Receipts = append(rep.Receipts, inventory.Receipt{
			PackageID: fmt.Sprintf("com.example.pkg%03d", i), Version: "1.0", InstallDate: installedAt.Add(-time.Duration(i) * time.Hour),
			InstallPrefix: "/", InstallProcess: "installer",
		})
	}
	for i := range inventoryApps {
		v := "2.0"
		if i == 0 {
			v = fmt.Sprintf("2.%d", seq)
		}
		rep.Apps = append(rep.Apps, inventory.App{
			BundleID: fmt.Sprintf("com.example.app%03d", i), Name: fmt.Sprintf("App %03d", i), Version: v, Build: "100",
			Path: fmt.Sprintf("/Applications/App %03d.app", i),
		})
	}
	return agent.InventoryReport(d.id.DeviceID, rep.Hash(), now, d.facts, rep)
}
