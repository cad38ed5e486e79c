package installer

import (
	"encoding/xml"
	"fmt"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/mobileatwork/mobileatwork/packaging/bom"
	"github.com/mobileatwork/mobileatwork/packaging/xar"
)

// Component is one component package of a flat PKG, as Installer receipts
// name it.
type Component struct {
	ID              string
	Version         string
	InstallLocation string // absolute, "/" when the package does not say
	// Apps are the top-level application bundles its payload lays down,
	// as absolute paths on the device (from the Bom).
	Apps []string
}

type pkgInfoXML struct {
	XMLName         xml.Name `xml:"pkg-info"`
	Identifier      string   `xml:"identifier,attr"`
	Version         string   `xml:"version,attr"`
	InstallLocation string   `xml:"install-location,attr"`
}

// ReadComponents lists the component packages of the flat PKG at pkgPath: a
// product archive (Distribution + NAME.pkg/PackageInfo) or a bare component
// (PackageInfo at the top).
func ReadComponents(pkgPath string) ([]Component, error) {
	f, err := os.Open(pkgPath)
	if err != nil {
		return nil, fmt.Errorf("read package: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read package: %w", err)
	}
	a, err := xar.Open(f, fi.Size())
	if err != nil {
		return nil, fmt.Errorf("read package %s: %w", pkgPath, err)
	}
	var infos []string
	for _, n := range a.Names() {
		if n == "PackageInfo" || strings.Count(n, "/") == 1 && strings.HasSuffix(n, "/PackageInfo") {
			infos = append(infos, n)
		}
	}
	if len(infos) == 0 {
		return nil, fmt.Errorf("read package %s: %w", pkgPath, ErrNoPackageInfo)
	}
	sort.Strings(infos)
	var out []Component
	for _, n := range infos {
		b, err := a.ReadFile(n)
		if err != nil {
			return nil, fmt.Errorf("read package %s: %w", pkgPath, err)
		}
		var pi pkgInfoXML
		if err := xml.Unmarshal(b, &pi); err != nil {
			return nil, fmt.Errorf("read package %s: %s: %w", pkgPath, n, err)
		}
		if pi.Identifier == "" {
			return nil, fmt.Errorf("read package %s: %s has no identifier: %w", pkgPath, n, ErrNoPackageInfo)
		}
		c := Component{ID: pi.Identifier, Version: pi.Version, InstallLocation: path.Clean("/" + pi.InstallLocation)}
		// The Bom is optional for this purpose: without it the component is
		// still installable, it just names no app.
		if bb, err := a.ReadFile(path.Join(path.Dir(n), "Bom")); err == nil {
			if entries, err := bom.Unmarshal(bb); err == nil {
				c.Apps = topLevelApps(c.InstallLocation, entries)
			}
		}
		out = append(out, c)
	}
	return out, nil
}

// topLevelApps keeps the .app directories that are not inside another bundle.
func topLevelApps(loc string, entries []bom.Entry) []string {
	var apps []string
	for _, e := range entries {
		if !e.Mode.IsDir() || !strings.HasSuffix(e.Path, ".app") {
			continue
		}
		p := path.Join(loc, strings.TrimPrefix(e.Path, "."))
		if strings.Contains(strings.TrimSuffix(p, ".app"), ".app/") {
			continue
		}
		apps = append(apps, p)
	}
	sort.Strings(apps)
	return apps
}
