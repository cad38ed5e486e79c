package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/agent"
	"github.com/mobileatwork/mobileatwork/agent/appcatalog"
	"github.com/mobileatwork/mobileatwork/agent/assets"
	"github.com/mobileatwork/mobileatwork/agent/installer"
	"github.com/mobileatwork/mobileatwork/agent/installer/installertest"
	"github.com/mobileatwork/mobileatwork/agent/managed"
	"github.com/mobileatwork/mobileatwork/inventory"
	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server"
)

// pngImage draws a w×h PNG: a coloured background with a lighter band, so
// screenshots look like something when a person checks them.
func pngImage(t testing.TB, w, h int, bg color.RGBA) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := bg
			if y > h/3 && y < h/3+h/6 || x > w/8 && x < w/8+w/10 && y > h/2 {
				c = color.RGBA{uint8(min(255, int(bg.R)+90)), uint8(min(255, int(bg.G)+90)), uint8(min(255, int(bg.B)+90)), 255}
			}
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func writeFile(t testing.TB, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// catalogApp adds an app with details, reviews and a distribution.
type catalogApp struct {
	name, kind, packageID, bundleID, category, publisher, short, desc string
	pkg                                                               []byte // in-house PKG, or nil
	icon                                                              []byte
	shots                                                             map[string][]byte // alt → image
	reviews                                                           []int
	to                                                                []string
}

func (e *env) addCatalogApp(c catalogApp) server.AppInfo {
	e.t.Helper()
	ctx := context.Background()
	dir := e.t.TempDir()
	req := server.AddAppRequest{Name: c.name, Kind: c.kind, PackageID: c.packageID, BundleID: c.bundleID}
	if c.pkg != nil {
		req.File = writeFile(e.t, dir, "app.pkg", c.pkg)
	}
	a, err := e.srv.AddApp(ctx, req)
	if err != nil {
		e.t.Fatal(err)
	}
	set := server.SetAppRequest{Category: &c.category, Publisher: &c.publisher, ShortDescription: &c.short, Description: &c.desc}
	if c.icon != nil {
		p := writeFile(e.t, dir, "icon.png", c.icon)
		set.Icon = &p
	}
	alts := make([]string, 0, len(c.shots))
	for alt := range c.shots {
		alts = append(alts, alt)
	}
	slices.Sort(alts)
	for i, alt := range alts {
		set.Screenshots = append(set.Screenshots, server.ScreenshotFile{Path: writeFile(e.t, dir, "s"+string(rune('a'+i))+".png", c.shots[alt]), Alt: alt})
	}
	if _, err := e.srv.SetApp(ctx, a.ID, set); err != nil {
		e.t.Fatal(err)
	}
	authors := []string{"Ada Lovelace", "Grace Hopper", "Alan Turing", "Edsger Dijkstra"}
	texts := []string{"Does exactly what our team needs.", "Solid, a few rough edges in the settings.", "Fast and simple.", "Works."}
	for i, r := range c.reviews {
		if _, err := e.srv.AddReview(ctx, a.ID, authors[i%4], r, texts[i%4]); err != nil {
			e.t.Fatal(err)
		}
	}
	if len(c.to) > 0 {
		if _, err := e.srv.DistributeApp(ctx, a.ID, c.to); err != nil {
			e.t.Fatal(err)
		}
	}
	info, err := e.srv.AppInfo(ctx, a.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return info
}

func mustPKG(t testing.TB, id, version string, apps ...string) []byte {
	t.Helper()
	b, err := installertest.PKG(id, version, apps...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func checkin(t *testing.T, a *agent.Agent) {
	t.Helper()
	if err := a.Cycle(context.Background()); err != nil {
		t.Fatalf("check-in: %v", err)
	}
}

func offerIDs(t *testing.T, a *agent.Agent) []string {
	t.Helper()
	c, err := a.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, o := range c.Apps {
		ids = append(ids, o.ID)
	}
	return ids
}

func TestOffersReachOnlyTargetedDevices(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	stA, stB := e.enroll(), e.enroll()
	a, b := newAgent(t, stA), newAgent(t, stB)
	if err := e.srv.SetDeviceGroups(context.Background(), a.DeviceID(), []string{"design"}); err != nil {
		t.Fatal(err)
	}
	everyone := e.addCatalogApp(catalogApp{name: "Browser", kind: protocol.AppKindPackager, packageID: "org.example.browser", to: []string{"all"}})
	design := e.addCatalogApp(catalogApp{name: "Canvas", kind: protocol.AppKindInHouse, packageID: "com.example.canvas",
		pkg: mustPKG(t, "com.example.canvas", "1.0", "Applications/Canvas.app"), to: []string{"group:design"}})
	onlyB := e.addCatalogApp(catalogApp{name: "Deploy", kind: protocol.AppKindInHouse, packageID: "com.example.deploy", to: []string{"device:" + b.DeviceID()}})
	nobody := e.addCatalogApp(catalogApp{name: "Secret", kind: protocol.AppKindInHouse, packageID: "com.example.secret",
		pkg: mustPKG(t, "com.example.secret", "1.0")})

	checkin(t, a)
	checkin(t, b)
	if got, want := offerIDs(t, a), []string{everyone.ID, design.ID}; !slices.Equal(got, want) {
		t.Errorf("device A offered %v, want %v", got, want)
	}
	if got, want := offerIDs(t, b), []string{everyone.ID, onlyB.ID}; !slices.Equal(got, want) {
		t.Errorf("device B offered %v, want %v", got, want)
	}

	// Files follow the same rule: B may not fetch A's app, nor anyone an
	// undistributed one, even knowing its digest.
	ca, _ := a.Catalog()
	pkg := *ca.Apps[1].Package
	if _, err := a.FetchAsset(context.Background(), pkg, 1<<20); err != nil {
		t.Fatalf("device A fetching its package: %v", err)
	}
	var he *agent.HTTPError
	if _, err := b.FetchAsset(context.Background(), pkg, 1<<20); !errors.As(err, &he) || he.Status != http.StatusNotFound {
		t.Fatalf("device B fetching another group's package = %v, want 404", err)
	}
	secret := pkg
	secret.URL = strings.Replace(pkg.URL, design.ID, nobody.ID, 1)
	secret.SHA256, secret.Size = nobody.FileSHA256, nobody.FileSize
	if _, err := a.FetchAsset(context.Background(), secret, 1<<20); !errors.As(err, &he) || he.Status != http.StatusNotFound {
		t.Fatalf("fetching an undistributed package = %v, want 404", err)
	}

	// A distribution added later reaches the device at its next check-in.
	if _, err := e.srv.DistributeApp(context.Background(), nobody.ID, []string{"user:ada@example.com"}); err != nil {
		t.Fatal(err)
	}
	checkin(t, a)
	if got := offerIDs(t, a); !slices.Contains(got, nobody.ID) {
		t.Fatalf("after distributing to the device's user: %v", got)
	}
}

// catalogFixture is a tenant with one enrolled agent and Apps@Work set up:
// an in-house app with a PKG, icon, screenshots and reviews; a packager app
// already installed; and an app distributed to nobody.
type catalogFixture struct {
	e       *env
	a       *agent.Agent
	root    string // inventory root and installer twin volume
	svc     *appcatalog.Service
	tools   server.AppInfo
	browser server.AppInfo
	notes   server.AppInfo
}

func newCatalogFixture(t *testing.T) *catalogFixture {
	t.Helper()
	e := newEnv(t)
	f := &catalogFixture{e: e, root: t.TempDir()}
	f.tools = e.addCatalogApp(catalogApp{
		name: "Team Tools", kind: protocol.AppKindInHouse, packageID: "com.example.teamtools",
		category: "Productivity", publisher: "Example Corp IT",
		short: "Shared drives, VPN and printers in one place.",
		desc:  "Team Tools connects this Mac to the company's shared drives, VPN and printers.\nIt is maintained by the IT team and updated every month.",
		pkg:   mustPKG(t, "com.example.teamtools", "3.2.1", "Applications/Team Tools.app"),
		icon:  pngImage(t, 128, 128, color.RGBA{11, 87, 208, 255}),
		shots: map[string][]byte{
			"Main window listing shared drives": pngImage(t, 640, 400, color.RGBA{40, 60, 90, 255}),
			"Printer setup in two clicks":       pngImage(t, 640, 400, color.RGBA{20, 110, 80, 255}),
		},
		reviews: []int{5, 4, 4},
		to:      []string{"all"},
	})
	f.browser = e.addCatalogApp(catalogApp{
		name: "Browser", kind: protocol.AppKindPackager, packageID: "org.example.browser",
		category: "Internet", publisher: "Example Browser Foundation", short: "The company's standard web browser.",
		icon: pngImage(t, 128, 128, color.RGBA{200, 80, 20, 255}), reviews: []int{5}, to: []string{"all"},
	})
	f.notes = e.addCatalogApp(catalogApp{
		name: "Notes Sync", kind: protocol.AppKindInHouse, packageID: "com.example.notessync",
		category: "Productivity", publisher: "Example Corp IT", short: "Keeps meeting notes in sync.",
		pkg: mustPKG(t, "com.example.notessync", "1.0", "Applications/Notes Sync.app"), to: []string{"all"},
	})
	// The packager app is already on the Mac.
	if err := (installer.Twin{Root: f.root}).Install(context.Background(), writeFile(t, t.TempDir(), "b.pkg", mustPKG(t, "org.example.browser", "128.0"))); err != nil {
		t.Fatal(err)
	}
	f.a = newAgentWith(t, e.enroll(), func(o *agent.Options) { o.InventoryRoot = f.root })
	checkin(t, f.a)
	f.svc = appcatalog.New(appcatalog.Options{
		Source: f.a, Installer: installer.Twin{Root: f.root}, StateDir: f.a.StateDir(), InventoryRoot: f.root,
	})
	t.Cleanup(f.svc.Wait)
	return f
}

func (f *catalogFixture) app(t *testing.T, id string) appcatalog.App {
	t.Helper()
	st := f.svc.State(context.Background())
	if st.Error != "" {
		t.Fatalf("state error: %s", st.Error)
	}
	for _, a := range st.Apps {
		if a.ID == id {
			return a
		}
	}
	t.Fatalf("app %s not in the catalog", id)
	return appcatalog.App{}
}

// waitStatus polls until the app leaves "installing".
func (f *catalogFixture) waitStatus(t *testing.T, id string) appcatalog.App {
	t.Helper()
	var a appcatalog.App
	waitFor(t, 10*time.Second, "app "+id+" to leave installing", func() (bool, error) {
		a = f.app(t, id)
		return a.Status != appcatalog.StatusInstalling, nil
	})
	return a
}

func TestCatalogInstallInHouseApp(t *testing.T) {
	t.Parallel()
	f := newCatalogFixture(t)
	if a := f.app(t, f.browser.ID); a.Status != appcatalog.StatusInstalled || a.InstalledVersion != "128.0" || a.Installable {
		t.Fatalf("packager app already on the Mac: %+v", a)
	}
	tools := f.app(t, f.tools.ID)
	if tools.Status != appcatalog.StatusAvailable || !tools.Installable || tools.Rating != 4.3 || len(tools.Reviews) != 3 || len(tools.Screenshots) != 2 {
		t.Fatalf("in-house app before install: %+v", tools)
	}
	if err := f.svc.Install(context.Background(), f.tools.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Install(context.Background(), f.browser.ID); !errors.Is(err, appcatalog.ErrNotInstallable) {
		t.Fatalf("installing a packager app from the catalog = %v, want ErrNotInstallable", err)
	}
	got := f.waitStatus(t, f.tools.ID)
	if got.Status != appcatalog.StatusInstalled || got.InstalledVersion != "3.2.1" {
		t.Fatalf("after install: %+v", got)
	}
	m, err := managed.Load(f.a.StateDir())
	if err != nil || len(m) != 1 || m[0].Path != "/Applications/Team Tools.app" || !slices.Equal(m[0].PackageIDs, []string{"com.example.teamtools"}) {
		t.Fatalf("managed record %+v, %v", m, err)
	}
	if left, _ := os.ReadDir(filepath.Join(f.a.StateDir(), "downloads")); len(left) != 0 {
		t.Fatalf("downloads left behind: %v", left)
	}
}

func TestTamperedPackageIsRefusedAndNothingInstalled(t *testing.T) {
	t.Parallel()
	f := newCatalogFixture(t)
	// Same size, one byte changed, on the server's disk.
	p, err := filePath(f.e.srv, f.tools.FileSHA256)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Install(context.Background(), f.tools.ID); err != nil {
		t.Fatal(err)
	}
	got := f.waitStatus(t, f.tools.ID)
	if got.Status != appcatalog.StatusFailed || !strings.Contains(got.Error, "SHA-256") {
		t.Fatalf("after a tampered download: %+v, want failed with a digest error", got)
	}
	rep, err := inventory.Collect(context.Background(), inventory.Options{Root: f.root})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rep.Receipts {
		if r.PackageID == "com.example.teamtools" {
			t.Fatal("the tampered package was installed")
		}
	}
	if log, _ := installer.ReadTwinLog(f.root); len(log) != 1 { // the fixture's browser only
		t.Fatalf("installer ran: %+v", log)
	}
	if m, _ := managed.Load(f.a.StateDir()); len(m) != 0 {
		t.Fatalf("managed record %+v", m)
	}
	if left, _ := os.ReadDir(filepath.Join(f.a.StateDir(), "downloads")); len(left) != 0 {
		t.Fatalf("refused download left behind: %v", left)
	}
}

func TestTamperedImageIsRefusedAndShownAsError(t *testing.T) {
	t.Parallel()
	f := newCatalogFixture(t)
	p, err := filePath(f.e.srv, f.tools.Details.Icon.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	// A valid PNG of the same kind, but not the one the tenant signed.
	if err := os.WriteFile(p, pngImage(t, 128, 128, color.RGBA{255, 0, 0, 255}), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.Image(context.Background(), f.tools.ID, -1); !errors.Is(err, assets.ErrDigest) && !errors.Is(err, assets.ErrSize) {
		t.Fatalf("Image = %v, want a digest or size refusal", err)
	}
	// The page's image request gets a refusal it can show.
	rec := httptest.NewRecorder()
	f.svc.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/api/apps/"+f.tools.ID+"/icon", nil))
	var body struct{ Error string }
	json.Unmarshal(rec.Body.Bytes(), &body)
	if rec.Code != http.StatusBadGateway || !strings.HasPrefix(body.Error, "image refused") {
		t.Fatalf("icon answer %d %q, want 502 image refused", rec.Code, rec.Body)
	}
	// Untouched screenshots still load, and are cached once verified.
	b, ct, err := f.svc.Image(context.Background(), f.tools.ID, 0)
	if err != nil || ct != "image/png" || len(b) == 0 {
		t.Fatalf("screenshot = %d bytes %q %v", len(b), ct, err)
	}
}
