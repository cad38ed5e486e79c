package server

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/mobileatwork/mobileatwork/internal/appversion"
	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// ErrNoInventory is returned for a device that has not reported an
// inventory yet.
var ErrNoInventory = errors.New("no inventory reported yet")

func (s *Server) handleInventory(w http.ResponseWriter, r *http.Request, d store.Device, _ *x509.Certificate) {
	var rep protocol.InventoryReport
	if !s.decodeFrom(w, r, d, &rep, &rep.DeviceID) {
		return
	}
	if err := checkInventory(rep); err != nil {
		s.fail(w, r, http.StatusBadRequest, "inventory refused: "+err.Error())
		return
	}
	if err := s.Store.PutInventory(r.Context(), d.ID, rep, s.now()); err != nil {
		s.internal(w, r, "store inventory", err)
		return
	}
	s.Log.Info("inventory", zap.String("device", d.ID), zap.Int("receipts", len(rep.Receipts)),
		zap.Int("apps", len(rep.Apps)), zap.Int("errors", len(rep.Errors)))
	writeJSON(w, http.StatusOK, protocol.InventoryAck{Hash: rep.Hash})
}

var sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)

// checkInventory refuses a report the store should not keep: too many
// entries, over-long or NUL-carrying strings, entries without identity.
func checkInventory(r protocol.InventoryReport) error {
	switch {
	case !sha256Hex.MatchString(r.Hash):
		return fmt.Errorf("hash must be 64 lower-case hex digits")
	case r.CollectedAt.IsZero():
		return fmt.Errorf("collected_at is missing")
	}
	for _, c := range []struct {
		what string
		n    int
	}{{"receipts", len(r.Receipts)}, {"apps", len(r.Apps)}, {"errors", len(r.Errors)}} {
		if c.n > protocol.MaxInventoryItems {
			return fmt.Errorf("%d %s; the limit is %d", c.n, c.what, protocol.MaxInventoryItems)
		}
	}
	if err := checkFacts(r.Facts); err != nil {
		return err
	}
	for i, rc := range r.Receipts {
		if rc.PackageID == "" {
			return fmt.Errorf("receipt %d has no package_id", i)
		}
		if err := checkStrings(fmt.Sprintf("receipt %d", i), protocol.MaxInventoryString,
			rc.PackageID, rc.Version, rc.InstallPrefix, rc.InstallProcess); err != nil {
			return err
		}
	}
	for i, a := range r.Apps {
		if a.Path == "" {
			return fmt.Errorf("app %d has no path", i)
		}
		if err := checkStrings(fmt.Sprintf("app %d", i), protocol.MaxInventoryString, a.BundleID, a.Name, a.Version, a.Build, a.Path); err != nil {
			return err
		}
	}
	for i, e := range r.Errors {
		if err := checkStrings(fmt.Sprintf("error %d", i), protocol.MaxInventoryString, e.Path); err != nil {
			return err
		}
		if err := checkStrings(fmt.Sprintf("error %d", i), protocol.MaxInventoryError, e.Error); err != nil {
			return err
		}
	}
	return nil
}

// checkFacts refuses the facts of a device that the store should not keep,
// as inventory strings: a value over protocol.MaxInventoryString bytes or
// holding a NUL. Enrollment, check-in and inventory all apply it.
func checkFacts(f protocol.Facts) error {
	for _, v := range []struct{ name, value string }{
		{"serial_number", f.SerialNumber}, {"model", f.Model}, {"os_version", f.OSVersion}, {"os_build", f.OSBuild},
		{"hostname", f.Hostname}, {"agent_version", f.AgentVersion}, {"console_user", f.ConsoleUser},
		{"console_user_full_name", f.ConsoleUserFullName}, {"time_zone", f.TimeZone},
	} {
		if err := checkStrings("facts: "+v.name, protocol.MaxInventoryString, v.value); err != nil {
			return err
		}
	}
	return nil
}

// maxCapabilities bounds the capabilities a device announces: the agent
// has a handful.
const maxCapabilities = 64

// checkReported is checkFacts for what enrollment and check-in report:
// the facts and the capabilities, each a string under the same rule.
func checkReported(f protocol.Facts, caps []string) error {
	if err := checkFacts(f); err != nil {
		return err
	}
	if len(caps) > maxCapabilities {
		return fmt.Errorf("%d capabilities; the limit is %d", len(caps), maxCapabilities)
	}
	return checkStrings("capabilities", protocol.MaxInventoryString, caps...)
}

func checkStrings(what string, limit int, values ...string) error {
	for _, v := range values {
		if len(v) > limit {
			return fmt.Errorf("%s: a value of %d bytes; the limit is %d", what, len(v), limit)
		}
		if strings.IndexByte(v, 0) >= 0 {
			return fmt.Errorf("%s: a value holds a NUL byte", what)
		}
	}
	return nil
}

// DeviceSummary is the device part of an inventory view.
type DeviceSummary struct {
	ID string `json:"id"`
	protocol.Facts
	User        string     `json:"user,omitempty"`
	LastCheckin *time.Time `json:"last_checkin"`
}

// AppStatus tells whether one packager app of the catalog is on the device.
type AppStatus struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	PackageID string `json:"package_id,omitempty"`
	BundleID  string `json:"bundle_id,omitempty"`
	// Version is the catalog's minimum; empty accepts any version.
	Version   string `json:"version"`
	Installed bool   `json:"installed"`
	// InstalledVersion is the newest version found on the device, even when
	// it is older than Version; empty when nothing matched.
	InstalledVersion string `json:"installed_version"`
	// MatchedBy is "receipt" or "app": what InstalledVersion was read from.
	MatchedBy string `json:"matched_by,omitempty"`
}

// InventoryView is what `inventory --device ID` shows.
type InventoryView struct {
	Device       DeviceSummary               `json:"device"`
	Hash         string                      `json:"hash"`
	CollectedAt  time.Time                   `json:"collected_at"`
	ReceivedAt   time.Time                   `json:"received_at"`
	Receipts     []protocol.InventoryReceipt `json:"receipts"`
	Apps         []protocol.InventoryApp     `json:"apps"`
	Errors       []protocol.InventoryError   `json:"errors"`
	PackagerApps []AppStatus                 `json:"packager_apps"`
}

// DeviceInventory returns the latest inventory of a device with, for each
// packager app of the catalog, whether it is installed.
func (s *Server) DeviceInventory(ctx context.Context, deviceID string) (InventoryView, error) {
	d, err := s.Store.Device(ctx, deviceID)
	if errors.Is(err, store.ErrNotFound) {
		return InventoryView{}, invalid("no device %q; see `mobileatwork-server devices`", deviceID)
	} else if err != nil {
		return InventoryView{}, err
	}
	inv, err := s.Store.Inventory(ctx, deviceID)
	if errors.Is(err, store.ErrNotFound) {
		return InventoryView{}, fmt.Errorf("device %s: %w; the agent sends one at its next check-in", deviceID, ErrNoInventory)
	} else if err != nil {
		return InventoryView{}, err
	}
	catalog, err := s.Store.Apps(ctx)
	if err != nil {
		return InventoryView{}, err
	}
	v := InventoryView{
		Device: DeviceSummary{ID: d.ID, Facts: d.Facts, User: d.User},
		Hash:   inv.Hash, CollectedAt: inv.CollectedAt, ReceivedAt: inv.ReceivedAt,
		Receipts: nonNil(inv.Receipts), Apps: nonNil(inv.Apps), Errors: nonNil(inv.Errors),
		PackagerApps: []AppStatus{},
	}
	v.Device.AgentVersion = d.AgentVersion
	if !d.LastCheckin.IsZero() {
		v.Device.LastCheckin = &d.LastCheckin
	}
	for _, a := range catalog {
		if a.Kind == protocol.AppKindPackager {
			v.PackagerApps = append(v.PackagerApps, appStatus(a, inv.InventoryReport))
		}
	}
	return v, nil
}

// appStatus matches a catalog app against an inventory: by package id among
// the receipts and by bundle id among the apps, keeping the newest version
// found. The app is installed when that version meets the catalog's minimum.
func appStatus(a store.App, inv protocol.InventoryReport) AppStatus {
	st := AppStatus{ID: a.ID, Name: a.Name, PackageID: a.PackageID, BundleID: a.BundleID, Version: a.Version}
	found := false
	consider := func(version, by string) {
		if !found || appversion.Compare(version, st.InstalledVersion) > 0 {
			st.InstalledVersion, st.MatchedBy = version, by
		}
		found = true
	}
	if a.PackageID != "" {
		for _, r := range inv.Receipts {
			if strings.EqualFold(r.PackageID, a.PackageID) {
				consider(r.Version, "receipt")
			}
		}
	}
	if a.BundleID != "" {
		for _, app := range inv.Apps {
			if strings.EqualFold(app.BundleID, a.BundleID) {
				v := app.Version
				if strings.TrimSpace(v) == "" {
					v = app.Build
				}
				consider(v, "app")
			}
		}
	}
	st.Installed = found && appversion.AtLeast(st.InstalledVersion, a.Version)
	return st
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
