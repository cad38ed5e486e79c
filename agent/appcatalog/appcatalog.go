// Package appcatalog is Apps@Work on the device: the catalog of apps the
// tenant distributes to this Mac, each marked installed from the inventory,
// and the install of in-house PKGs (verified download, installer, record of
// managed apps). Handler serves the page and its JSON API; the page is
// served to the console user by internal/localweb.
package appcatalog

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/zap"

	"github.com/mobileatwork/mobileatwork/agent/assets"
	"github.com/mobileatwork/mobileatwork/agent/installer"
	"github.com/mobileatwork/mobileatwork/agent/managed"
	"github.com/mobileatwork/mobileatwork/internal/localweb"
	"github.com/mobileatwork/mobileatwork/internal/routines"
	"github.com/mobileatwork/mobileatwork/internal/version"
	"github.com/mobileatwork/mobileatwork/inventory"
	"github.com/mobileatwork/mobileatwork/protocol"
)

// Sentinel errors, tested with errors.Is.
var (
	ErrUnknownApp     = errors.New("no such app in this Mac's catalog")
	ErrNotInstallable = errors.New("this app is not installed from Apps@Work")
	ErrBusy           = errors.New("this app is already being installed")
	// ErrNotAgentPackage refuses a package offered as the agent that is
	// not the agent's own package alone.
	ErrNotAgentPackage = errors.New("the package offered as Mobile@Work is not the agent's package")
	// ErrUpToDate refuses to upgrade the agent to a version it has.
	ErrUpToDate = errors.New("this Mac already has this version of Mobile@Work or a newer one")
)

// Statuses of an app on this Mac.
const (
	StatusInstalled  = "installed"
	StatusAvailable  = "available"  // Install button
	StatusInstalling = "installing" // download or installer running
	StatusFailed     = "failed"     // the last install failed; Install again
	StatusManaged    = "managed"    // not installed; the tenant deploys it (packager, Apps & Books), not Apps@Work
)

// MaxPackage bounds an in-house PKG download.
const MaxPackage = 8 << 30

// installTimeout bounds one download and install.
const installTimeout = 30 * time.Minute

// Source is where offers and their files come from; the agent is one.
type Source interface {
	Catalog() (protocol.Catalog, error)
	FetchAsset(ctx context.Context, a protocol.Asset, limit int64) ([]byte, error)
	DownloadAsset(ctx context.Context, a protocol.Asset, limit int64, dst string) error
}

// Options wire a Service.
type Options struct {
	Source    Source
	Installer installer.Installer
	// StateDir holds the managed-apps record, the image cache and
	// downloads in progress.
	StateDir string
	// InventoryRoot is the volume the inventory reads ("" is "/").
	InventoryRoot string
	Log           *zap.Logger
	Clock         clockwork.Clock // nil is the real clock
	// Upgrader installs the agent's own package; nil is
	// installer.DefaultUpgrader of Installer and StateDir.
	Upgrader installer.Upgrader
	// AgentVersion is the running agent's version; "" is version.Version.
	AgentVersion string
}

// App is one app as the page and `catalog list` show it.
type App struct {
	protocol.AppOffer
	Status string `json:"status"`
	// InstalledVersion is the version found on this Mac, if any.
	InstalledVersion string `json:"installed_version,omitempty"`
	Installable      bool   `json:"installable"`
	Error            string `json:"error,omitempty"` // why the last install failed
}

// State is what the page renders: the whole list, so a live update can
// replace it in one go.
type State struct {
	ReceivedAt time.Time `json:"received_at,omitzero"`
	Apps       []App     `json:"apps"`
	Categories []string  `json:"categories"`
	Error      string    `json:"error,omitempty"` // the catalog or inventory could not be read
	// Seq orders states by when they were computed: an answer that
	// arrives late (a fetch overtaken by a live event) is older and the
	// page ignores it.
	Seq uint64 `json:"seq"`
}

type job struct {
	status string
	err    string
	// handedOver marks an upgrade of the agent handed to the Upgrader:
	// installing until this Mac has the version (or the daemon restarts).
	handedOver bool
}

// Service is Apps@Work on this Mac.
type Service struct {
	o      Options
	cache  assets.Cache
	events *localweb.Events

	mu   sync.Mutex
	jobs map[string]job // app id → install in progress or last failure
	seq  uint64
	wg   sync.WaitGroup
}

// New makes the service.
func New(o Options) *Service {
	if o.Log == nil {
		o.Log = zap.NewNop()
	}
	if o.Clock == nil {
		o.Clock = clockwork.NewRealClock()
	}
	if o.Upgrader == nil {
		o.Upgrader = installer.DefaultUpgrader(o.Installer, o.StateDir)
	}
	if o.AgentVersion == "" {
		o.AgentVersion = version.Version
	}
	s := &Service{
		o:     o,
		cache: assets.Cache{Dir: filepath.Join(o.StateDir, "cache", "images")},
		jobs:  map[string]job{},
	}
	s.events = &localweb.Events{Snapshot: func() []localweb.Event {
		return []localweb.Event{{Name: "state", Data: s.State(context.Background())}}
	}}
	return s
}

// Wait blocks until installs in progress end.
func (s *Service) Wait() { s.wg.Wait() }

// State reads the saved catalog and the inventory and merges them.
func (s *Service) State(ctx context.Context) State {
	// Numbered before anything is read: a state begun later saw at least
	// as much.
	s.mu.Lock()
	s.seq++
	st := State{Apps: []App{}, Categories: []string{}, Seq: s.seq}
	s.mu.Unlock()
	c, err := s.o.Source.Catalog()
	if err != nil {
		st.Error = "The catalog could not be read: " + err.Error()
		return st
	}
	st.ReceivedAt = c.ReceivedAt
	rep, err := inventory.Collect(ctx, inventory.Options{Root: s.o.InventoryRoot})
	if err != nil {
		st.Error = "What is installed on this Mac could not be read: " + err.Error()
	}
	receipts := map[string]string{}
	for _, r := range rep.Receipts {
		receipts[r.PackageID] = r.Version
	}
	bundles := map[string]string{}
	for _, a := range rep.Apps {
		bundles[a.BundleID] = a.Version
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cats := map[string]bool{}
	for _, o := range c.Apps {
		a := App{AppOffer: o, Installable: o.Kind == protocol.AppKindInHouse && o.Package != nil}
		if v, ok := receipts[o.PackageID]; ok && o.PackageID != "" {
			a.Status, a.InstalledVersion = StatusInstalled, v
		} else if v, ok := bundles[o.BundleID]; ok && o.BundleID != "" {
			a.Status, a.InstalledVersion = StatusInstalled, v
		} else if a.Installable {
			a.Status = StatusAvailable
		} else {
			a.Status = StatusManaged
		}
		if isAgent(o) {
			s.agentStatus(&a, receipts[o.PackageID])
			if s.jobs[o.ID].handedOver && a.Status == StatusInstalled {
				delete(s.jobs, o.ID)
			}
		}
		if j, ok := s.jobs[o.ID]; ok && (j.status == StatusInstalling || a.Status != StatusInstalled) {
			a.Status, a.Error = j.status, j.err
		}
		if o.Category != "" {
			cats[o.Category] = true
		}
		st.Apps = append(st.Apps, a)
	}
	for c := range cats {
		st.Categories = append(st.Categories, c)
	}
	slices.Sort(st.Categories)
	return st
}

func (s *Service) offer(id string) (protocol.AppOffer, error) {
	c, err := s.o.Source.Catalog()
	if err != nil {
		return protocol.AppOffer{}, err
	}
	for _, o := range c.Apps {
		if o.ID == id {
			return o, nil
		}
	}
	return protocol.AppOffer{}, fmt.Errorf("app %q: %w", id, ErrUnknownApp)
}

// Image returns a verified icon (index -1) or screenshot of an app.
func (s *Service) Image(ctx context.Context, id string, index int) ([]byte, string, error) {
	o, err := s.offer(id)
	if err != nil {
		return nil, "", err
	}
	var a protocol.Asset
	switch {
	case index == -1 && o.Icon != nil:
		a = *o.Icon
	case index >= 0 && index < len(o.Screenshots):
		a = o.Screenshots[index]
	default:
		return nil, "", fmt.Errorf("app %q has no such image: %w", id, ErrUnknownApp)
	}
	if b := s.cache.Get(a); b != nil {
		ct, _ := assets.ImageType(b)
		return b, ct, nil
	}
	b, err := s.o.Source.FetchAsset(ctx, a, assets.MaxImage)
	if err != nil {
		return nil, "", err
	}
	// FetchAsset checks the type only for declared images: check anyway.
	ct, err := assets.ImageType(b)
	if err != nil {
		return nil, "", fmt.Errorf("image of %s: %w", id, err)
	}
	if err := s.cache.Put(a, b); err != nil {
		s.o.Log.Warn("cache image", zap.String("app", id), zap.Error(err))
	}
	return b, ct, nil
}

// Install starts installing an in-house app in the background; its status
// goes installing, then installed or failed, published as live events.
func (s *Service) Install(ctx context.Context, id string) error {
	o, err := s.offer(id)
	if err != nil {
		return err
	}
	if o.Kind != protocol.AppKindInHouse || o.Package == nil {
		return fmt.Errorf("app %q: %w", o.Name, ErrNotInstallable)
	}
	if isAgent(o) && !s.agentOutdated(ctx, id) {
		return fmt.Errorf("app %q: %w", o.Name, ErrUpToDate)
	}
	s.mu.Lock()
	if s.jobs[id].status == StatusInstalling {
		s.mu.Unlock()
		return fmt.Errorf("app %q: %w", o.Name, ErrBusy)
	}
	s.jobs[id] = job{status: StatusInstalling}
	s.mu.Unlock()
	s.publish(ctx)
	// Owned by s.wg: whoever serves the page waits for it (Wait).
	s.wg.Go(func() {
		// An install, once started, is not interrupted by the page or the
		// server going away: a half-run installer is worse than a late one.
		ictx, cancel := context.WithTimeout(context.WithoutCancel(ctx), installTimeout)
		defer cancel()
		err := s.install(ictx, o)
		s.mu.Lock()
		if err != nil {
			s.o.Log.Error("install failed", zap.String("app", o.ID), zap.String("name", o.Name), zap.Error(err))
			s.jobs[id] = job{status: StatusFailed, err: err.Error()}
		} else if isAgent(o) {
			s.o.Log.Info("agent upgrade handed over", zap.String("app", o.ID), zap.String("version", o.Version))
			s.jobs[id] = job{status: StatusInstalling, handedOver: true}
		} else {
			s.o.Log.Info("app installed", zap.String("app", o.ID), zap.String("name", o.Name))
			delete(s.jobs, id)
		}
		s.mu.Unlock()
		s.publish(context.WithoutCancel(ctx))
	})
	return nil
}

// install downloads, verifies, installs and records one app. The PKG is
// checked against the signed digest before the installer sees it.
func (s *Service) install(ctx context.Context, o protocol.AppOffer) error {
	if isAgent(o) {
		return s.upgrade(ctx, o)
	}
	pkg, comps, err := s.download(ctx, o, "install")
	defer os.Remove(pkg)
	if err != nil {
		return err
	}
	if err := s.o.Installer.Install(ctx, pkg); err != nil {
		return fmt.Errorf("install %s: %w", o.Name, err)
	}
	var ids []string
	for _, c := range comps {
		ids = append(ids, c.ID)
	}
	now := s.o.Clock.Now().UTC()
	for _, c := range comps {
		for _, p := range c.Apps {
			if err := managed.Record(s.o.StateDir, managed.App{Path: p, PackageIDs: ids, BundleID: o.BundleID, InstalledAt: now}); err != nil {
				return fmt.Errorf("install %s: %w", o.Name, err)
			}
		}
	}
	return nil
}

// download fetches offer o's package into the downloads directory, checked
// against the digest of the signed check-in, and reads its components;
// verb names the act in errors. The caller removes pkg, whatever err.
func (s *Service) download(ctx context.Context, o protocol.AppOffer, verb string) (pkg string, comps []installer.Component, err error) {
	dir := filepath.Join(s.o.StateDir, "downloads")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", nil, fmt.Errorf("download %s: %w", o.Name, err)
	}
	pkg = filepath.Join(dir, o.ID+".pkg")
	if err := s.o.Source.DownloadAsset(ctx, *o.Package, MaxPackage, pkg); err != nil {
		return pkg, nil, fmt.Errorf("download %s: %w", o.Name, err)
	}
	if comps, err = installer.ReadComponents(pkg); err != nil {
		return pkg, nil, fmt.Errorf("%s %s: %w", verb, o.Name, err)
	}
	return pkg, comps, nil
}

func (s *Service) publish(ctx context.Context) {
	s.events.Publish(localweb.Event{Name: "state", Data: s.State(ctx)})
}

// Watch publishes the state whenever the saved catalog or the inventory
// changes (a check-in brought new apps, something was installed by other
// means), until ctx is done. It reads nothing while no page is open (a page
// that connects gets the current state first): the daemon serves the
// catalog for as long as it runs.
func (s *Service) Watch(ctx context.Context, every time.Duration) {
	last := ""
	for routines.Sleep(ctx, s.o.Clock, every) {
		if !s.events.Watched() {
			last = ""
			continue
		}
		st := s.State(ctx)
		key := stateKey(st)
		// The first look after a page opened publishes too: the page's
		// snapshot may predate it. A full state again does no harm.
		if key != last {
			s.events.Publish(localweb.Event{Name: "state", Data: st})
		}
		last = key
	}
}

func stateKey(st State) string {
	var b strings.Builder
	b.WriteString(st.ReceivedAt.String() + st.Error)
	for _, a := range st.Apps {
		b.WriteString("|" + a.ID + "=" + a.Status + "/" + a.InstalledVersion)
	}
	return b.String()
}
