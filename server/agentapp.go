package server

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/mobileatwork/mobileatwork/internal/appversion"
	"github.com/mobileatwork/mobileatwork/packaging"
	"github.com/mobileatwork/mobileatwork/packaging/xar"
	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// AgentAppName is the catalog's name for the agent's own app.
const AgentAppName = packaging.Title

// PublishAgentOptions describe the agent package published in the catalog.
type PublishAgentOptions struct {
	AgentDir string // holds AgentARM64 and AgentAMD64
	Version  string
	Signer   *xar.Signer // nil: unsigned
	Created  time.Time   // stamped on every file; zero is now
	// Force republishes a version that is not newer than the published one.
	Force bool
}

// PublishedAgent is the catalog entry after a publish.
type PublishedAgent struct {
	App store.App
	// Previous is the version the entry offered before, empty when the
	// entry is new.
	Previous string
	Signed   bool
}

// PublishAgent builds the generic agent package, without an enrollment
// file (an enrolled Mac needs none, and a package every device may fetch
// must carry no token), and makes it the catalog's one in-house
// "Mobile@Work" app, matched by the agent's package id: added when there is
// none, else moved to the new version. A version not newer than the
// published one is refused unless Force. Distributions are left as they
// are: a new entry reaches no device until `app distribute`.
func (s *Server) PublishAgent(ctx context.Context, o PublishAgentOptions) (PublishedAgent, error) {
	version, err := packaging.NormalizeVersion(o.Version)
	if err != nil {
		return PublishedAgent{}, invalid("--version %q: want e.g. 1.4.2", o.Version)
	}
	existing, found, err := s.agentApp(ctx)
	if err != nil {
		return PublishedAgent{}, err
	}
	if found && existing.Kind != protocol.AppKindInHouse {
		return PublishedAgent{}, invalid("app %s (%q) has the agent's package id %s but is a %s app; only an in-house app can carry the agent's package", existing.ID, existing.Name, protocol.AgentPackageID, existing.Kind)
	}
	if found && !o.Force && appversion.Compare(version, existing.Version) <= 0 {
		return PublishedAgent{}, invalid("--version %s is not newer than the published %s (app %s); Macs would not take it as an update: give a newer --version, or --force to republish", version, existing.Version, existing.ID)
	}
	popt, err := s.agentPackage(o.AgentDir, version, o.Created, o.Signer)
	if err != nil {
		return PublishedAgent{}, err
	}
	pkg, err := packaging.Build(popt)
	if err != nil {
		return PublishedAgent{}, invalid("%v", err)
	}
	sum, err := s.Files.Put(pkg)
	size := int64(len(pkg))
	if err != nil {
		return PublishedAgent{}, err
	}
	out := PublishedAgent{Signed: o.Signer != nil}
	if found {
		out.Previous = existing.Version
		err = s.Store.UpdateAppPackage(ctx, existing.ID, version, sum, size)
		out.App = existing
	} else {
		out.App = store.App{
			ID: newID("app"), Name: AgentAppName, Kind: protocol.AppKindInHouse,
			PackageID: protocol.AgentPackageID, CreatedAt: s.now(),
		}
		err = s.Store.CreateApp(ctx, withPackage(out.App, version, sum, size))
	}
	if err != nil {
		s.dropUnusedFile(ctx, sum)
		return PublishedAgent{}, fmt.Errorf("store app: %w", err)
	}
	if found && existing.FileSHA256 != sum {
		s.dropUnusedFile(ctx, existing.FileSHA256)
	}
	out.App = withPackage(out.App, version, sum, size)
	summary := "version: " + version + " (new app)"
	if found {
		summary = change("version", out.Previous, version)
		if summary == "" {
			summary = "version: " + version + " republished"
		}
	}
	return out, s.audit(ctx, "agent.publish", appObject(out.App), summary)
}

func withPackage(a store.App, version, sum string, size int64) store.App {
	a.Version, a.FileSHA256, a.FileSize = version, sum, size
	return a
}

// agentApp finds the catalog entry of the agent's package id.
func (s *Server) agentApp(ctx context.Context) (store.App, bool, error) {
	apps, err := s.Store.Apps(ctx)
	if err != nil {
		return store.App{}, false, fmt.Errorf("list apps: %w", err)
	}
	for _, a := range apps {
		if strings.EqualFold(a.PackageID, protocol.AgentPackageID) {
			return a, true, nil
		}
	}
	return store.App{}, false, nil
}

// dropUnusedFile removes a PKG no catalog entry names any more.
func (s *Server) dropUnusedFile(ctx context.Context, sum string) {
	if sum == "" {
		return
	}
	if used, err := s.appFileInUse(ctx, sum); err == nil && !used {
		s.Files.Delete(sum)
	}
}
