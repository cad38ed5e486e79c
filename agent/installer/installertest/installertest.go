// Package installertest builds small flat PKGs for tests of code that
// downloads and installs packages.
package installertest

import (
	"fmt"
	"io/fs"
	"path"
	"strings"
	"time"

	"github.com/mobileatwork/mobileatwork/packaging/bom"
	"github.com/mobileatwork/mobileatwork/packaging/xar"
)

// PKG returns a product archive with one component package id at version,
// installed at /, whose Bom lists the given app bundles (e.g.
// "Applications/Tools.app"). It has no payload: nothing here extracts one.
func PKG(id, version string, apps ...string) ([]byte, error) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	entries := []bom.Entry{{Path: ".", Mode: fs.ModeDir | 0o755, ModTime: at}}
	seen := map[string]bool{".": true}
	for _, a := range apps {
		parts := strings.Split(strings.Trim(a, "/"), "/")
		for i := range parts {
			p := "./" + path.Join(parts[:i+1]...)
			if !seen[p] {
				seen[p] = true
				entries = append(entries, bom.Entry{Path: p, Mode: fs.ModeDir | 0o755, ModTime: at})
			}
		}
	}
	b, err := bom.Marshal(entries)
	if err != nil {
		return nil, fmt.Errorf("bom: %w", err)
	}
	info := fmt.Sprintf(`<?xml version="1.0" encoding="utf-8"?>
<pkg-info format-version="2" identifier="%s" version="%s" install-location="/" auth="root"></pkg-info>
`, id, version)
	dist := `<?xml version="1.0" encoding="utf-8"?><installer-gui-script minSpecVersion="2"></installer-gui-script>`
	f := func(name string, data []byte) xar.File {
		return xar.File{Name: name, Data: data, Mode: 0o644, ModTime: at, Compress: true}
	}
	return xar.Build([]xar.File{
		f("Distribution", []byte(dist)),
		f("component.pkg/Bom", b),
		f("component.pkg/PackageInfo", []byte(info)),
	}, xar.Options{Created: at})
}
