package inventory

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/inventory/invtest"
)

var installed = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

func mustWrite(t *testing.T, p string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func mustSymlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// writeDevice builds a file-system tree with one of each case Collect handles.
func writeDevice(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	receipts := filepath.Join(root, "var", "db", "receipts")
	apps := filepath.Join(root, "Applications")

	must(t, invtest.WriteReceipt(root, "com.example.bin", map[string]any{
		"PackageIdentifier":  "com.example.bin",
		"PackageVersion":     "1.2.3",
		"InstallDate":        installed.Add(400 * time.Millisecond), // float noise is truncated
		"InstallPrefixPath":  "/",
		"InstallProcessName": "installer",
	}, true))
	must(t, invtest.WriteReceipt(root, "com.example.xml", map[string]any{
		"PackageIdentifier":  "com.example.xml",
		"PackageVersion":     "4.5",
		"InstallDate":        installed,
		"InstallPrefixPath":  "/Library",
		"InstallProcessName": "storedownloadd",
	}, false))
	must(t, invtest.WriteReceipt(root, "com.example.sparse", map[string]any{
		"PackageIdentifier": "com.example.sparse",
	}, true))
	must(t, invtest.WriteReceipt(root, "noid", map[string]any{"PackageVersion": "1"}, false))
	mustWrite(t, filepath.Join(receipts, "corrupt.plist"), []byte("bplist00\x00\x01garbage"))
	mustWrite(t, filepath.Join(receipts, "selfref.plist"), selfReferentialBplist())
	mustWrite(t, filepath.Join(receipts, "com.example.bin.bom"), []byte("BOMStore"))
	must(t, os.MkdirAll(filepath.Join(receipts, "folder.plist"), 0o755))

	info := func(id, name string) map[string]any {
		return map[string]any{"CFBundleIdentifier": id, "CFBundleName": name,
			"CFBundleShortVersionString": "1.0", "CFBundleVersion": "100"}
	}
	must(t, invtest.WriteApp(root, "Binary.app", info("com.example.binary", "Binary"), true))
	must(t, invtest.WriteApp(root, "XML.app", invtest.AppInfo("com.example.xmlapp", "XML Display", "2.0"), false))
	must(t, invtest.WriteApp(root, "Utilities/Tool.app", info("com.example.tool", "Tool"), false))
	must(t, invtest.WriteApp(root, "Suite/Member.app", info("com.example.member", "Member"), true))
	must(t, invtest.WriteApp(root, "Café 日本.app", info("com.example.unicode", "Café 日本"), true))
	must(t, invtest.WriteApp(root, "Folder/Deeper/TooDeep.app", info("com.example.deep", "Deep"), false))
	must(t, invtest.WriteApp(root, "NoName.app", map[string]any{"CFBundleIdentifier": "com.example.noname"}, false))
	must(t, os.MkdirAll(filepath.Join(apps, "NoInfo.app", "Contents", "MacOS"), 0o755))
	mustWrite(t, filepath.Join(apps, "Hostile.app", "Contents", "Info.plist"), selfReferentialBplist())
	mustWrite(t, filepath.Join(apps, "NotABundle.app"), []byte("a file"))

	// An app kept elsewhere and linked into /Applications is reported at the link.
	must(t, invtest.WriteApp(root, "../Elsewhere/Real.app", info("com.example.linked", "Real"), true))
	mustSymlink(t, filepath.Join("..", "Elsewhere", "Real.app"), filepath.Join(apps, "Linked.app"))
	mustSymlink(t, "Loop.app", filepath.Join(apps, "Loop.app"))
	mustSymlink(t, "Suite", filepath.Join(apps, "LinkedFolder"))

	// An iOS app on Apple silicon: a wrapper whose WrappedBundle is a flat bundle.
	ios := filepath.Join(apps, "Game.app")
	b, err := invtest.BinaryPlist(info("com.example.ios", "Game"))
	must(t, err)
	mustWrite(t, filepath.Join(ios, "Wrapper", "Game.app", "Info.plist"), b)
	mustSymlink(t, filepath.Join("Wrapper", "Game.app"), filepath.Join(ios, "WrappedBundle"))
	return root
}

func TestCollect(t *testing.T) {
	root := writeDevice(t)
	for _, workers := range []int{0, 1, 3} {
		t.Run(fmt.Sprintf("workers %d", workers), func(t *testing.T) {
			rep, err := Collect(context.Background(), Options{Root: root, Workers: workers})
			if err != nil {
				t.Fatalf("Collect: %v", err)
			}
			wantReceipts := []Receipt{
				{PackageID: "com.example.bin", Version: "1.2.3", InstallDate: installed, InstallPrefix: "/", InstallProcess: "installer"},
				{PackageID: "com.example.sparse"},
				{PackageID: "com.example.xml", Version: "4.5", InstallDate: installed, InstallPrefix: "/Library", InstallProcess: "storedownloadd"},
			}
			if !slices.Equal(rep.Receipts, wantReceipts) {
				t.Errorf("receipts:\n got %+v\nwant %+v", rep.Receipts, wantReceipts)
			}
			app := func(id, name, path string) App {
				return App{BundleID: id, Name: name, Version: "1.0", Build: "100", Path: path}
			}
			wantApps := []App{
				app("com.example.binary", "Binary", "/Applications/Binary.app"),
				app("com.example.unicode", "Café 日本", "/Applications/Café 日本.app"),
				app("com.example.ios", "Game", "/Applications/Game.app"),
				app("com.example.linked", "Real", "/Applications/Linked.app"),
				{BundleID: "com.example.noname", Name: "NoName", Path: "/Applications/NoName.app"},
				app("com.example.member", "Member", "/Applications/Suite/Member.app"),
				app("com.example.tool", "Tool", "/Applications/Utilities/Tool.app"),
				{BundleID: "com.example.xmlapp", Name: "XML Display", Version: "2.0", Build: "2.0.100", Path: "/Applications/XML.app"},
			}
			if !slices.Equal(rep.Apps, wantApps) {
				t.Errorf("apps:\n got %+v\nwant %+v", rep.Apps, wantApps)
			}
			wantErrors := []struct{ path, msg string }{
				{"/Applications/Hostile.app", "decode Contents/Info.plist: malformed property list: reference cycle"},
				{"/Applications/Loop.app", "read Contents/Info.plist"},
				{"/Applications/NoInfo.app", "missing Contents/Info.plist"},
				{"/var/db/receipts/corrupt.plist", "decode receipt: malformed property list"},
				{"/var/db/receipts/noid.plist", "missing PackageIdentifier"},
				{"/var/db/receipts/selfref.plist", "reference cycle"},
			}
			if len(rep.Errors) != len(wantErrors) {
				t.Fatalf("errors: got %+v, want %d", rep.Errors, len(wantErrors))
			}
			for i, w := range wantErrors {
				if g := rep.Errors[i]; g.Path != w.path || !strings.Contains(g.Error, w.msg) {
					t.Errorf("error %d = %+v, want path %s mentioning %q", i, g, w.path, w.msg)
				}
			}
		})
	}
}

func TestCollectEmptyRoot(t *testing.T) {
	rep, err := Collect(context.Background(), Options{Root: t.TempDir()})
	if err != nil {
		t.Fatalf("Collect: %v", err)
	}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"receipts":[],"apps":[],"errors":[]}`; string(b) != want {
		t.Errorf("JSON = %s, want %s", b, want)
	}
}

func TestReportJSONNeverNull(t *testing.T) {
	b, err := json.Marshal(Report{Facts: &Facts{SerialNumber: "C02TEST"}})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte("null")) || !bytes.Contains(b, []byte(`"serial_number":"C02TEST"`)) {
		t.Errorf("JSON = %s", b)
	}
}

func TestCollectFails(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	mustWrite(t, file, nil)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		root string
		want error
	}{
		{"cancelled", cancelled, writeDevice(t), context.Canceled},
		{"missing root", context.Background(), filepath.Join(t.TempDir(), "absent"), os.ErrNotExist},
		{"root is a file", context.Background(), file, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Collect(tt.ctx, Options{Root: tt.root})
			if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Fatalf("Collect = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestCollectOversizedAndPanickingFiles(t *testing.T) {
	root := t.TempDir()
	must(t, invtest.WriteReceipt(root, "com.example.ok", map[string]any{"PackageIdentifier": "com.example.ok"}, true))
	must(t, invtest.WriteReceipt(root, "com.example.panic", map[string]any{"PackageIdentifier": "com.example.panic"}, true))
	big := append([]byte("bplist00"), make([]byte, MaxPlistSize)...)
	mustWrite(t, filepath.Join(root, "var", "db", "receipts", "big.plist"), big)

	testHookRead = func(b []byte) {
		if bytes.Contains(b, []byte("com.example.panic")) {
			var nilMap map[string]int
			nilMap["boom"]++
		}
	}
	t.Cleanup(func() { testHookRead = nil })
	rep, err := Collect(context.Background(), Options{Root: root})
	if err != nil {
		t.Fatalf("Collect: %v", err)
	}
	if len(rep.Receipts) != 1 || rep.Receipts[0].PackageID != "com.example.ok" {
		t.Errorf("receipts = %+v, want only com.example.ok", rep.Receipts)
	}
	if len(rep.Errors) != 2 ||
		!strings.Contains(rep.Errors[0].Error, ErrTooLarge.Error()) ||
		!strings.Contains(rep.Errors[1].Error, "reader panic") {
		t.Errorf("errors = %+v, want too large then reader panic", rep.Errors)
	}
}

func TestCollectFixture(t *testing.T) {
	root := t.TempDir()
	const nReceipts, nApps = 40, 30
	must(t, invtest.WriteFixture(root, nReceipts, nApps))
	rep, err := Collect(context.Background(), Options{Root: root})
	if err != nil {
		t.Fatalf("Collect: %v", err)
	}
	if len(rep.Receipts) != nReceipts || len(rep.Apps) != nApps || len(rep.Errors) != 0 {
		t.Fatalf("got %d receipts, %d apps, errors %v", len(rep.Receipts), len(rep.Apps), rep.Errors)
	}
	for i, r := range rep.Receipts {
		want := Receipt{
			PackageID:      fmt.Sprintf("com.example.pkg%05d", i),
			Version:        fmt.Sprintf("1.%d.0", i),
			InstallDate:    invtest.BaseInstallDate.Add(time.Duration(i) * time.Hour),
			InstallPrefix:  "/",
			InstallProcess: "installer",
		}
		if r != want {
			t.Errorf("receipt %d = %+v, want %+v", i, r, want)
		}
	}
	paths := map[string]App{}
	for _, a := range rep.Apps {
		paths[a.Path] = a
	}
	for _, p := range []string{
		"/Applications/Café Ñandú 日本 0000.app",
		"/Applications/Utilities/App 0001.app",
		"/Applications/Suite 00/App 0003.app",
		"/Applications/App 0002.app",
	} {
		if _, ok := paths[p]; !ok {
			t.Errorf("fixture app %s missing", p)
		}
	}
	if a := paths["/Applications/App 0002.app"]; a.BundleID != "com.example.app00002" || a.Version != "2.2" || a.Name != "App 0002" {
		t.Errorf("App 0002 = %+v", a)
	}
	// Both encodings are present, so both decoder paths were exercised.
	formats := map[string]bool{}
	for _, name := range []string{"com.example.pkg00000", "com.example.pkg00001"} {
		b, err := os.ReadFile(filepath.Join(root, "var", "db", "receipts", name+".plist"))
		must(t, err)
		formats[string(b[:6])] = true
	}
	if !formats["bplist"] || !formats["<?xml "] {
		t.Errorf("fixture formats = %v, want binary and XML", formats)
	}
}

func TestHash(t *testing.T) {
	root := writeDevice(t)
	collect := func() Report {
		t.Helper()
		rep, err := Collect(context.Background(), Options{Root: root})
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	base := collect()
	h := base.Hash()
	if len(h) != 64 {
		t.Fatalf("Hash = %q, want 64 hex digits", h)
	}
	if again := collect().Hash(); again != h {
		t.Errorf("Hash changed between identical runs: %s then %s", h, again)
	}

	reordered := base
	reordered.Receipts = slices.Clone(base.Receipts)
	reordered.Apps = slices.Clone(base.Apps)
	slices.Reverse(reordered.Receipts)
	slices.Reverse(reordered.Apps)
	reordered.Errors = nil
	if reordered.Hash() != h {
		t.Error("Hash depends on order or on errors")
	}
	local := base
	local.Receipts = slices.Clone(base.Receipts)
	local.Receipts[0].InstallDate = local.Receipts[0].InstallDate.In(time.FixedZone("CET", 3600))
	if local.Hash() != h {
		t.Error("Hash depends on the time zone of install dates")
	}

	withFacts := base
	withFacts.Facts = &Facts{SerialNumber: "C02TEST"}
	if withFacts.Hash() == h {
		t.Error("Hash ignores facts")
	}

	must(t, invtest.WriteReceipt(root, "com.example.xml", map[string]any{
		"PackageIdentifier": "com.example.xml",
		"PackageVersion":    "4.6",
		"InstallDate":       installed,
		"InstallPrefixPath": "/Library",
	}, false))
	if collect().Hash() == h {
		t.Error("Hash unchanged after a receipt changed")
	}
}
