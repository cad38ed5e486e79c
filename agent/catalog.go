package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/mobileatwork/mobileatwork/internal/atomicfile"
	"github.com/mobileatwork/mobileatwork/protocol"
)

// catalogFile keeps the Apps@Work catalog of the latest check-in, so the
// catalog page and `catalog list` work between check-ins and offline.
const catalogFile = "catalog.json"

// Catalog is the Apps@Work catalog as the device last received it.
type Catalog = protocol.Catalog

// catalogReceiver saves the offers of each verified check-in.
type catalogReceiver struct{ a *Agent }

// CatalogReceiver saves the Apps@Work offers of each check-in. Register it
// before OnboardingReceiver, whose end may open Apps@Work.
func CatalogReceiver(a *Agent) Receiver { return catalogReceiver{a} }

func (catalogReceiver) Name() string { return "catalog" }

func (r catalogReceiver) Receive(_ context.Context, p *protocol.CheckinPayload) error {
	apps := p.Apps
	if apps == nil {
		apps = []protocol.AppOffer{}
	}
	c := Catalog{ReceivedAt: r.a.o.Clock.Now().UTC(), Apps: apps}
	if err := atomicfile.WriteJSON(filepath.Join(r.a.o.StateDir, catalogFile), c, 0o600); err != nil {
		return fmt.Errorf("save catalog: %w", err)
	}
	return nil
}

// LoadCatalog reads the catalog saved in stateDir; before the first
// check-in it is empty, with a zero ReceivedAt.
func LoadCatalog(stateDir string) (Catalog, error) {
	var c Catalog
	err := atomicfile.ReadJSON(filepath.Join(stateDir, catalogFile), &c)
	if errors.Is(err, os.ErrNotExist) {
		return Catalog{Apps: []protocol.AppOffer{}}, nil
	}
	if err != nil {
		return Catalog{}, fmt.Errorf("read catalog: %w", err)
	}
	if c.Apps == nil {
		c.Apps = []protocol.AppOffer{}
	}
	return c, nil
}

// Catalog returns the saved catalog of this agent.
func (a *Agent) Catalog() (Catalog, error) { return LoadCatalog(a.o.StateDir) }

// StateDir is the agent's state directory, absolute.
func (a *Agent) StateDir() string { return a.o.StateDir }

// InventoryRoot is the root the inventory reads ("" is "/").
func (a *Agent) InventoryRoot() string { return a.o.InventoryRoot }
