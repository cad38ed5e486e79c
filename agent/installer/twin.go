package installer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/micromdm/plist"

	"github.com/mobileatwork/mobileatwork/agent/managed"
	"github.com/mobileatwork/mobileatwork/internal/atomicfile"
)

// TwinLog is the file, under Twin.Root, where the twin lists its installs.
const TwinLog = "var/db/mobileatwork-twin-installs.json"

// Twin stands in for installer(8) where there is none (Linux, tests): it
// writes the receipt Installer would leave, so the inventory sees the
// package as installed, and appends the install to a JSON log.
type Twin struct {
	// Root is the directory that plays the device's volume, where the
	// inventory reads; it must be set (the twin never writes to "/").
	Root string
	// Clock stamps the receipts; nil is the real clock.
	Clock clockwork.Clock
}

// TwinInstall is one entry of the twin's log.
type TwinInstall struct {
	Package     string    `json:"package"`
	PackageID   string    `json:"package_id"`
	Version     string    `json:"version"`
	InstalledAt time.Time `json:"installed_at"`
}

// receipt mirrors the keys of /var/db/receipts/ID.plist.
type receipt struct {
	PackageIdentifier  string    `plist:"PackageIdentifier"`
	PackageVersion     string    `plist:"PackageVersion"`
	InstallDate        time.Time `plist:"InstallDate"`
	InstallPrefixPath  string    `plist:"InstallPrefixPath"`
	InstallProcessName string    `plist:"InstallProcessName"`
}

// Install reads the package's components and writes one receipt each.
func (t Twin) Install(ctx context.Context, pkgPath string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("install %s: %w", pkgPath, err)
	}
	comps, err := ReadComponents(pkgPath)
	if err != nil {
		return fmt.Errorf("install: %w", err)
	}
	// The twin stands in for installer(8) off macOS: it writes receipts
	// into a directory that plays the device's volume, never into the
	// host's own /var/db.
	root := filepath.Clean(t.Root)
	if t.Root == "" || root == "/" {
		return fmt.Errorf("install %s: off macOS packages install into a stand-in volume: give the agent --root DIR (its inventory root)", filepath.Base(pkgPath))
	}
	clock := t.Clock
	if clock == nil {
		clock = clockwork.NewRealClock()
	}
	at := clock.Now().UTC().Truncate(time.Second)
	dir := filepath.Join(root, "var", "db", "receipts")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("install: %w", err)
	}
	var log []TwinInstall
	if err := atomicfile.ReadJSON(filepath.Join(root, TwinLog), &log); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("install: %w", err)
	}
	for _, c := range comps {
		// The id names a file: refuse what could escape the directory.
		if !managed.ValidPackageID(c.ID) {
			return fmt.Errorf("install %s: %w: %q", pkgPath, managed.ErrInvalidPackageID, c.ID)
		}
		b, err := plist.MarshalIndent(receipt{
			PackageIdentifier: c.ID, PackageVersion: c.Version, InstallDate: at,
			InstallPrefixPath: c.InstallLocation, InstallProcessName: "installer",
		}, "\t")
		if err != nil {
			return fmt.Errorf("install: encode receipt: %w", err)
		}
		if err := atomicfile.WriteFile(filepath.Join(dir, c.ID+".plist"), b, 0o644); err != nil {
			return fmt.Errorf("install: %w", err)
		}
		log = append(log, TwinInstall{Package: filepath.Base(pkgPath), PackageID: c.ID, Version: c.Version, InstalledAt: at})
	}
	if err := atomicfile.WriteJSON(filepath.Join(root, TwinLog), log, 0o644); err != nil {
		return fmt.Errorf("install: %w", err)
	}
	return nil
}

// ReadTwinLog returns the installs the twin recorded under root.
func ReadTwinLog(root string) ([]TwinInstall, error) {
	var log []TwinInstall
	b, err := os.ReadFile(filepath.Join(root, TwinLog))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &log); err != nil {
		return nil, fmt.Errorf("read twin log: %w", err)
	}
	return log, nil
}
