package onboarding

import (
	"context"

	"github.com/mobileatwork/mobileatwork/protocol"
)

// ProfileObserver lists the identifiers of the configuration profiles
// installed on the device.
type ProfileObserver interface {
	InstalledProfiles(ctx context.Context) (map[string]bool, error)
}

// Installed is what the inventory shows: bundle ids (to their paths) and
// PKG receipt ids.
type Installed struct {
	Bundles  map[string]string // bundle id → app path
	Packages map[string]bool
}

// AppObserver reads the device's inventory; Apps & Books apps, which MDM
// installs, and packager apps are only ever observed this way.
type AppObserver interface {
	InstalledApps(ctx context.Context) (Installed, error)
}

// Fetcher downloads an asset of the tenant to dst and checks it against
// the digest and size the signed check-in carried; dst exists only if the
// download is verified.
type Fetcher interface {
	Fetch(ctx context.Context, a protocol.Asset, dst string) error
}

// Installer installs a flat package on the boot volume.
type Installer interface {
	Install(ctx context.Context, pkgPath string) error
}

// Reporter sends the progress to the tenant.
type Reporter interface {
	ReportOnboarding(ctx context.Context, r protocol.OnboardingReport) error
}

// Opener shows a URL to the console user.
type Opener interface {
	Open(ctx context.Context, url string) error
}
