// Package invtest writes synthetic Mac file-system trees (PKG receipts and app
// bundles, in binary and XML property lists) for tests and benchmarks of code
// that reads an inventory. It is not used by the agent itself.
package invtest

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/micromdm/plist"
)

// BaseInstallDate is the install date of the first fixture receipt; receipt i
// was installed i hours later.
var BaseInstallDate = time.Date(2024, 3, 1, 9, 30, 0, 0, time.UTC)

// WriteFixture writes receipts PKG receipts under root/var/db/receipts
// (alternately binary and XML) and apps app bundles under root/Applications:
// alternately binary and XML Info.plist files, one app in every ten inside a
// suite folder, the second app under Utilities, and one in seven with a
// non-ASCII name. Receipt i has package id com.example.pkg%05d and version
// 1.i.0; app i has bundle id com.example.app%05d and version 2.i.
func WriteFixture(root string, receipts, apps int) error {
	for i := range receipts {
		id := fmt.Sprintf("com.example.pkg%05d", i)
		fields := map[string]any{
			"PackageIdentifier":  id,
			"PackageVersion":     fmt.Sprintf("1.%d.0", i),
			"InstallDate":        BaseInstallDate.Add(time.Duration(i) * time.Hour),
			"InstallPrefixPath":  "/",
			"InstallProcessName": "installer",
			"PackageFileName":    fmt.Sprintf("Example-%05d.pkg", i),
			"PackageGroups":      []any{},
		}
		if err := WriteReceipt(root, id, fields, i%2 == 0); err != nil {
			return err
		}
	}
	for i := range apps {
		name := fmt.Sprintf("App %04d", i)
		if i%7 == 0 {
			name = fmt.Sprintf("Café Ñandú 日本 %04d", i)
		}
		rel := name + ".app"
		switch {
		case i == 1:
			rel = filepath.Join("Utilities", rel)
		case i%10 == 3:
			rel = filepath.Join(fmt.Sprintf("Suite %02d", i/100), rel)
		}
		if err := WriteApp(root, rel, AppInfo(fmt.Sprintf("com.example.app%05d", i), name, fmt.Sprintf("2.%d", i)), i%2 == 0); err != nil {
			return err
		}
	}
	return nil
}

// AppInfo returns a realistic Info.plist dictionary: the keys an inventory
// reads among the ones a shipping app usually carries.
func AppInfo(bundleID, name, version string) map[string]any {
	return map[string]any{
		"CFBundleIdentifier":            bundleID,
		"CFBundleName":                  name,
		"CFBundleDisplayName":           name,
		"CFBundleShortVersionString":    version,
		"CFBundleVersion":               version + ".100",
		"CFBundleExecutable":            name,
		"CFBundlePackageType":           "APPL",
		"CFBundleInfoDictionaryVersion": "6.0",
		"CFBundleDevelopmentRegion":     "en",
		"CFBundleIconFile":              "AppIcon",
		"LSMinimumSystemVersion":        "12.0",
		"LSApplicationCategoryType":     "public.app-category.productivity",
		"NSHighResolutionCapable":       true,
		"NSPrincipalClass":              "NSApplication",
		"NSHumanReadableCopyright":      "Copyright © 2024 Example Corp. All rights reserved.",
		"CFBundleSupportedPlatforms":    []any{"MacOSX"},
		"CFBundleDocumentTypes": []any{
			map[string]any{
				"CFBundleTypeName":       "Example Document",
				"CFBundleTypeRole":       "Editor",
				"LSHandlerRank":          "Owner",
				"LSItemContentTypes":     []any{bundleID + ".document"},
				"NSDocumentClass":        "Document",
				"CFBundleTypeIconSystem": true,
			},
		},
		"CFBundleURLTypes": []any{
			map[string]any{"CFBundleURLName": bundleID, "CFBundleURLSchemes": []any{"example"}},
		},
	}
}

// WriteReceipt writes root/var/db/receipts/<id>.plist with fields.
func WriteReceipt(root, id string, fields map[string]any, binary bool) error {
	return writePlist(filepath.Join(root, "var", "db", "receipts", id+".plist"), fields, binary)
}

// WriteApp writes root/Applications/<rel>/Contents/Info.plist with info.
func WriteApp(root, rel string, info map[string]any, binary bool) error {
	return writePlist(filepath.Join(root, "Applications", rel, "Contents", "Info.plist"), info, binary)
}

func writePlist(p string, v map[string]any, binary bool) error {
	var (
		b   []byte
		err error
	)
	if binary {
		b, err = BinaryPlist(v)
	} else {
		b, err = XMLPlist(v)
	}
	if err != nil {
		return fmt.Errorf("encode %s: %w", p, err)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, b, 0o644)
}

// XMLPlist encodes v as an XML property list.
func XMLPlist(v map[string]any) ([]byte, error) {
	return plist.MarshalIndent(v, "\t")
}
