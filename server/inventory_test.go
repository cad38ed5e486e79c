package server

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/cas"
	"github.com/mobileatwork/mobileatwork/server/store"
	"github.com/mobileatwork/mobileatwork/server/store/sqlite"
)

var t0 = time.Date(2026, time.March, 14, 9, 0, 0, 0, time.UTC)

// newTestServer is a server with a store and a clock: enough for the admin
// operations, which need no keys.
func newTestServer(t *testing.T) (*Server, *cas.Store) {
	t.Helper()
	dir := t.TempDir()
	st, err := sqlite.Open(filepath.Join(dir, "tenant.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	files, err := cas.Open(filepath.Join(dir, filesDir))
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Store: st, Files: files, Data: dir, Log: zap.NewNop(), Now: func() time.Time { return t0 }}
	return s, files
}

func validReport(deviceID string) protocol.InventoryReport {
	return protocol.InventoryReport{
		DeviceID: deviceID, Hash: strings.Repeat("ab", 32), CollectedAt: t0,
		Facts: protocol.Facts{SerialNumber: "C02TEST", AgentVersion: "1.80.0"},
		Receipts: []protocol.InventoryReceipt{
			{PackageID: "org.mozilla.firefox", Version: "127.0.2", InstallPrefix: "/"},
			{PackageID: "com.example.tools", Version: "2.0", InstallPrefix: "/"},
			{PackageID: "com.example.tools", Version: "2.10", InstallPrefix: "/opt"},
			{PackageID: "com.example.nover", InstallPrefix: "/"},
		},
		Apps: []protocol.InventoryApp{
			{BundleID: "com.tinyspeck.slackmacgap", Name: "Slack", Version: "4.41.97", Path: "/Applications/Slack.app"},
			{BundleID: "com.example.buildonly", Name: "Build", Build: "812", Path: "/Applications/Build.app"},
		},
	}
}

func TestPackagerAppsInstalled(t *testing.T) {
	s, _ := newTestServer(t)
	ctx := t.Context()
	if err := s.Store.CreateDevice(ctx, store.Device{ID: "dev_1", EnrolledAt: t0, AgentVersion: "1.80.0"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Store.PutInventory(ctx, "dev_1", validReport("dev_1"), t0); err != nil {
		t.Fatal(err)
	}
	type want struct {
		installed bool
		version   string
		by        string
	}
	tests := []struct {
		name string
		req  AddAppRequest
		want want
	}{
		{"installed, any version", AddAppRequest{PackageID: "org.mozilla.firefox"}, want{true, "127.0.2", "receipt"}},
		{"installed, newer than required", AddAppRequest{PackageID: "org.mozilla.firefox", Version: "127.0"}, want{true, "127.0.2", "receipt"}},
		{"installed, exactly required", AddAppRequest{PackageID: "org.mozilla.firefox", Version: "127.0.2.0"}, want{true, "127.0.2", "receipt"}},
		{"older version installed", AddAppRequest{PackageID: "org.mozilla.firefox", Version: "128.0"}, want{false, "127.0.2", "receipt"}},
		{"not installed", AddAppRequest{PackageID: "com.microsoft.teams2"}, want{false, "", ""}},
		{"package id case differs", AddAppRequest{PackageID: "ORG.mozilla.Firefox"}, want{true, "127.0.2", "receipt"}},
		{"newest of several receipts counts", AddAppRequest{PackageID: "com.example.tools", Version: "2.9"}, want{true, "2.10", "receipt"}},
		{"receipt without version, minimum required", AddAppRequest{PackageID: "com.example.nover", Version: "1.0"}, want{false, "", "receipt"}},
		{"matched by bundle", AddAppRequest{BundleID: "com.tinyspeck.slackmacgap", Version: "4.41"}, want{true, "4.41.97", "app"}},
		{"bundle version falls back to the build", AddAppRequest{BundleID: "com.example.buildonly", Version: "800"}, want{true, "812", "app"}},
		{"bundle older than required", AddAppRequest{BundleID: "com.tinyspeck.slackmacgap", Version: "4.42"}, want{false, "4.41.97", "app"}},
	}
	ids := map[string]string{}
	for i, tt := range tests {
		tt.req.Name, tt.req.Kind = tt.name, protocol.AppKindPackager
		// AddApp refuses a second entry for one identifier; the store does
		// not, so each case gets its own entry, matching the same device.
		id := fmt.Sprintf("app_%02d", i)
		if err := s.Store.CreateApp(ctx, store.App{
			ID: id, Name: tt.name, Kind: tt.req.Kind, PackageID: tt.req.PackageID,
			BundleID: tt.req.BundleID, Version: tt.req.Version, CreatedAt: t0.Add(time.Duration(i) * time.Second),
		}); err != nil {
			t.Fatal(err)
		}
		ids[tt.name] = id
	}
	// Other kinds are not packager apps and are not listed.
	if _, err := s.AddApp(ctx, AddAppRequest{Name: "Tools", Kind: protocol.AppKindInHouse, PackageID: "com.example.inhouse"}); err != nil {
		t.Fatal(err)
	}

	view, err := s.DeviceInventory(ctx, "dev_1")
	if err != nil {
		t.Fatal(err)
	}
	if len(view.PackagerApps) != len(tests) {
		t.Fatalf("%d packager apps in the view, want %d", len(view.PackagerApps), len(tests))
	}
	byID := map[string]AppStatus{}
	for _, st := range view.PackagerApps {
		byID[st.ID] = st
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := byID[ids[tt.name]]
			if got := (want{st.Installed, st.InstalledVersion, st.MatchedBy}); got != tt.want {
				t.Errorf("status = %+v, want %+v", got, tt.want)
			}
		})
	}
	if len(view.Receipts) != 4 || len(view.Apps) != 2 || view.Device.AgentVersion != "1.80.0" || view.Device.LastCheckin != nil {
		t.Errorf("view = %+v", view)
	}
}

func TestDeviceInventoryErrors(t *testing.T) {
	s, _ := newTestServer(t)
	ctx := t.Context()
	if _, err := s.DeviceInventory(ctx, "dev_nope"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("unknown device: %v, want ErrInvalid", err)
	}
	if err := s.Store.CreateDevice(ctx, store.Device{ID: "dev_1", EnrolledAt: t0}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeviceInventory(ctx, "dev_1"); !errors.Is(err, ErrNoInventory) {
		t.Fatalf("device without inventory: %v, want ErrNoInventory", err)
	}
}

func TestCheckInventory(t *testing.T) {
	long := strings.Repeat("x", protocol.MaxInventoryString+1)
	tests := []struct {
		name   string
		change func(*protocol.InventoryReport)
		want   string // "" for accepted
	}{
		{"valid", func(*protocol.InventoryReport) {}, ""},
		{"empty lists", func(r *protocol.InventoryReport) { r.Receipts, r.Apps = nil, nil }, ""},
		{"bad hash", func(r *protocol.InventoryReport) { r.Hash = "not-hex" }, "hash"},
		{"upper-case hash", func(r *protocol.InventoryReport) { r.Hash = strings.Repeat("AB", 32) }, "hash"},
		{"no collection time", func(r *protocol.InventoryReport) { r.CollectedAt = time.Time{} }, "collected_at"},
		{"too many receipts", func(r *protocol.InventoryReport) {
			r.Receipts = make([]protocol.InventoryReceipt, protocol.MaxInventoryItems+1)
			for i := range r.Receipts {
				r.Receipts[i].PackageID = "p"
			}
		}, "receipts; the limit"},
		{"too many apps", func(r *protocol.InventoryReport) {
			r.Apps = make([]protocol.InventoryApp, protocol.MaxInventoryItems+1)
		}, "apps; the limit"},
		{"receipt without id", func(r *protocol.InventoryReport) { r.Receipts[1].PackageID = "" }, "receipt 1 has no package_id"},
		{"app without path", func(r *protocol.InventoryReport) { r.Apps[0].Path = "" }, "app 0 has no path"},
		{"over-long app name", func(r *protocol.InventoryReport) { r.Apps[1].Name = long }, "app 1"},
		{"over-long facts", func(r *protocol.InventoryReport) { r.Facts.Hostname = long }, "facts"},
		{"NUL in a version", func(r *protocol.InventoryReport) { r.Receipts[0].Version = "1\x002" }, "NUL"},
		{"over-long error", func(r *protocol.InventoryReport) {
			r.Errors = []protocol.InventoryError{{Path: "/x", Error: strings.Repeat("e", protocol.MaxInventoryError+1)}}
		}, "error 0"},
		{"error at the limit", func(r *protocol.InventoryReport) {
			r.Errors = []protocol.InventoryError{{Path: "/x", Error: strings.Repeat("e", protocol.MaxInventoryError)}}
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := validReport("dev_1")
			tt.change(&r)
			err := checkInventory(r)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestAddApp(t *testing.T) {
	s, files := newTestServer(t)
	ctx := t.Context()
	pkg := filepath.Join(t.TempDir(), "Tools.pkg")
	body := []byte("xar!\x00\x1c rest of a flat package")
	if err := os.WriteFile(pkg, body, 0o644); err != nil {
		t.Fatal(err)
	}
	a, err := s.AddApp(ctx, AddAppRequest{
		Name: " Tools ", Kind: protocol.AppKindInHouse, PackageID: "com.example.tools", Version: "1.2", Priority: true, File: pkg,
	})
	if err != nil {
		t.Fatal(err)
	}
	if a.Name != "Tools" || a.FileSize != int64(len(body)) || len(a.FileSHA256) != 64 || !a.CreatedAt.Equal(t0) || !strings.HasPrefix(a.ID, "app_") {
		t.Fatalf("app = %+v", a)
	}
	if got, err := files.Get(a.FileSHA256, 1<<20); err != nil || string(got) != string(body) {
		t.Fatalf("package not kept: %q, %v", got, err)
	}

	notPKG := filepath.Join(t.TempDir(), "x.dmg")
	os.WriteFile(notPKG, []byte("not a package"), 0o644)
	short := filepath.Join(t.TempDir(), "short.pkg")
	os.WriteFile(short, []byte("xa"), 0o644)
	bundle := filepath.Join(t.TempDir(), "Bundle.pkg")
	os.Mkdir(bundle, 0o755)
	tests := []struct {
		name string
		req  AddAppRequest
		want string
	}{
		{"no name", AddAppRequest{Kind: "packager", PackageID: "a.b"}, "--name"},
		{"bad kind", AddAppRequest{Name: "x", Kind: "store", PackageID: "a.b"}, "--kind"},
		{"no identifier", AddAppRequest{Name: "x", Kind: "packager"}, "--package-id"},
		{"bad identifier", AddAppRequest{Name: "x", Kind: "packager", PackageID: "a b; rm"}, "reverse-DNS"},
		{"bad version", AddAppRequest{Name: "x", Kind: "packager", PackageID: "a.b", Version: "latest"}, "--version"},
		{"apps and books without bundle", AddAppRequest{Name: "x", Kind: "appsandbooks", PackageID: "a.b"}, "--bundle-id"},
		{"apps and books with a file", AddAppRequest{Name: "x", Kind: "appsandbooks", BundleID: "a.b", File: pkg}, "--file"},
		{"duplicate package id", AddAppRequest{Name: "x", Kind: "packager", PackageID: "COM.example.tools"}, a.ID},
		{"not a package", AddAppRequest{Name: "x", Kind: "packager", PackageID: "a.b", File: notPKG}, "flat PKG"},
		{"shorter than the magic", AddAppRequest{Name: "x", Kind: "packager", PackageID: "a.b", File: short}, "flat PKG"},
		{"bundle package directory", AddAppRequest{Name: "x", Kind: "packager", PackageID: "a.b", File: bundle}, "flat PKG"},
		{"missing file", AddAppRequest{Name: "x", Kind: "packager", PackageID: "a.b", File: filepath.Join(t.TempDir(), "nope.pkg")}, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.AddApp(ctx, tt.req)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want ErrInvalid mentioning %q", err, tt.want)
			}
		})
	}
	apps, err := s.Apps(ctx)
	if err != nil || len(apps) != 1 {
		t.Fatalf("catalog after refusals = %v, %v; want the one app", apps, err)
	}
	if left := storedFiles(t, s); len(left) != 1 {
		t.Fatalf("file store holds %v, want the one package", left)
	}
}

// storedFiles lists every file below the file store, unfinished writes too.
func storedFiles(t *testing.T, s *Server) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(filepath.Join(s.Data, filesDir), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, d.Name())
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
