package appcatalog

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/mobileatwork/mobileatwork/internal/appversion"
	"github.com/mobileatwork/mobileatwork/protocol"
)

// StatusUpdate marks the agent's own app when the catalog offers a newer
// version than the one on this Mac: Update button.
const StatusUpdate = "update"

// isAgent tells the catalog's entry of this agent itself: the tenant-built
// Mobile@Work package, by its package id.
func isAgent(o protocol.AppOffer) bool {
	return strings.EqualFold(o.PackageID, protocol.AgentPackageID)
}

// agentStatus sets the own app's status. The version on this Mac is the
// newer of the running agent's and its receipt's: the receipt is ahead
// while the daemon restarts after an upgrade, and there is none for an
// agent installed by other means than its package.
func (s *Service) agentStatus(a *App, receipt string) {
	a.InstalledVersion = s.o.AgentVersion
	if appversion.Compare(receipt, a.InstalledVersion) > 0 {
		a.InstalledVersion = receipt
	}
	a.Status = StatusInstalled
	if a.Installable && appversion.Compare(a.Version, a.InstalledVersion) > 0 {
		a.Status = StatusUpdate
	}
}

// agentOutdated tells whether the catalog offers the agent a newer version
// than this Mac has: an update, or one whose upgrade failed or runs (which
// Install refuses as busy).
func (s *Service) agentOutdated(ctx context.Context, id string) bool {
	for _, a := range s.State(ctx).Apps {
		if a.ID == id {
			return a.Status == StatusUpdate || a.Status == StatusFailed || a.Status == StatusInstalling
		}
	}
	return false
}

// upgrade downloads and verifies the agent's own package as any in-house
// package, checks that it is the agent's, and hands it to the Upgrader:
// never to the ordinary installer, whose process the package's scripts
// would kill with the daemon.
func (s *Service) upgrade(ctx context.Context, o protocol.AppOffer) error {
	pkg, comps, err := s.download(ctx, o, "upgrade")
	defer os.Remove(pkg)
	if err != nil {
		return err
	}
	if len(comps) != 1 || !strings.EqualFold(comps[0].ID, protocol.AgentPackageID) {
		return fmt.Errorf("upgrade %s: %w", o.Name, ErrNotAgentPackage)
	}
	if err := s.o.Upgrader.Upgrade(ctx, pkg); err != nil {
		return fmt.Errorf("upgrade %s: %w", o.Name, err)
	}
	return nil
}
