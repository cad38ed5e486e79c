package appcatalog

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/agent/installer"
	"github.com/mobileatwork/mobileatwork/agent/installer/installertest"
	"github.com/mobileatwork/mobileatwork/protocol"
)

// fakeSource serves a fixed catalog and files from memory.
type fakeSource struct {
	apps  []protocol.AppOffer
	files map[string][]byte // URL → body, returned unverified
}

func (f fakeSource) Catalog() (protocol.Catalog, error) {
	return protocol.Catalog{ReceivedAt: time.Unix(1, 0), Apps: f.apps}, nil
}

func (f fakeSource) FetchAsset(_ context.Context, a protocol.Asset, _ int64) ([]byte, error) {
	b, ok := f.files[a.URL]
	if !ok {
		return nil, errors.New("not found")
	}
	return b, nil
}

func (f fakeSource) DownloadAsset(_ context.Context, a protocol.Asset, _ int64, dst string) error {
	b, ok := f.files[a.URL]
	if !ok {
		return errors.New("not found")
	}
	return os.WriteFile(dst, b, 0o600)
}

// gate is an installer that waits until released.
type gate struct {
	release chan struct{}
	inner   installer.Installer
	mu      sync.Mutex
	calls   int
}

func (g *gate) Install(ctx context.Context, p string) error {
	g.mu.Lock()
	g.calls++
	g.mu.Unlock()
	<-g.release
	return g.inner.Install(ctx, p)
}

func writeReceipt(t *testing.T, root, id, version string) {
	t.Helper()
	b, err := installertest.PKG(id, version)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "x.pkg")
	os.WriteFile(p, b, 0o600)
	if err := (installer.Twin{Root: root}).Install(context.Background(), p); err != nil {
		t.Fatal(err)
	}
}

func TestStateAndInstall(t *testing.T) {
	root := t.TempDir()
	pkg, err := installertest.PKG("com.example.tools", "2.0", "Applications/Tools.app")
	if err != nil {
		t.Fatal(err)
	}
	src := fakeSource{
		apps: []protocol.AppOffer{
			{ID: "a1", Name: "Tools", Kind: protocol.AppKindInHouse, PackageID: "com.example.tools", Category: "Utilities",
				Package: &protocol.Asset{URL: "/v1/apps/a1/package", SHA256: protocol.SHA256Hex(pkg), Size: int64(len(pkg))}},
			{ID: "a2", Name: "Browser", Kind: protocol.AppKindPackager, PackageID: "org.example.browser", Category: "Internet"},
			{ID: "a3", Name: "Slack", Kind: protocol.AppKindAppsAndBooks, BundleID: "com.tinyspeck.slackmacgap"},
			{ID: "a4", Name: "Old", Kind: protocol.AppKindInHouse, PackageID: "com.example.old"}, // no package
		},
		files: map[string][]byte{"/v1/apps/a1/package": pkg},
	}
	writeReceipt(t, root, "org.example.browser", "128.0")
	g := &gate{release: make(chan struct{}), inner: installer.Twin{Root: root}}
	s := New(Options{Source: src, Installer: g, StateDir: t.TempDir(), InventoryRoot: root})

	want := map[string]string{"a1": StatusAvailable, "a2": StatusInstalled, "a3": StatusManaged, "a4": StatusManaged}
	st := s.State(context.Background())
	for _, a := range st.Apps {
		if a.Status != want[a.ID] {
			t.Errorf("%s status %q, want %q", a.ID, a.Status, want[a.ID])
		}
	}
	if strings.Join(st.Categories, ",") != "Internet,Utilities" {
		t.Errorf("categories %v", st.Categories)
	}

	h := s.Handler()
	post := func(id string) int {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", "/api/apps/"+id+"/install", nil))
		return rec.Code
	}
	if code := post("a1"); code != http.StatusAccepted {
		t.Fatalf("install a1: %d", code)
	}
	if code := post("a1"); code != http.StatusConflict {
		t.Fatalf("second install while the first runs: %d, want 409", code)
	}
	for id, code := range map[string]int{"a2": 409, "a4": 409, "nope": 404} {
		if got := post(id); got != code {
			t.Errorf("install %s: %d, want %d", id, got, code)
		}
	}
	if a := find(t, s, "a1"); a.Status != StatusInstalling {
		t.Fatalf("during install: %q", a.Status)
	}
	second := s.State(context.Background())
	if second.Seq <= st.Seq {
		t.Fatalf("state seq %d after %d: must grow", second.Seq, st.Seq)
	}
	close(g.release)
	s.Wait()
	if a := find(t, s, "a1"); a.Status != StatusInstalled || a.InstalledVersion != "2.0" {
		t.Fatalf("after install: %+v", a)
	}
	if g.calls != 1 {
		t.Fatalf("installer ran %d times", g.calls)
	}
}

func find(t *testing.T, s *Service, id string) App {
	t.Helper()
	for _, a := range s.State(context.Background()).Apps {
		if a.ID == id {
			return a
		}
	}
	t.Fatalf("no app %s", id)
	return App{}
}

func TestImageMustBeVerifiedPNGOrJPEG(t *testing.T) {
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
	svg := []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`)
	ref := func(url string, b []byte) *protocol.Asset {
		return &protocol.Asset{URL: url, SHA256: protocol.SHA256Hex(b), Size: int64(len(b)), ContentType: "image/png"}
	}
	src := fakeSource{
		apps: []protocol.AppOffer{
			{ID: "ok", Name: "Ok", Icon: ref("/i/ok", png)},
			{ID: "svg", Name: "Svg", Icon: ref("/i/svg", svg)}, // signed, but not an accepted type
			{ID: "none", Name: "None"},
		},
		files: map[string][]byte{"/i/ok": png, "/i/svg": svg},
	}
	s := New(Options{Source: src, StateDir: t.TempDir(), InventoryRoot: t.TempDir()})
	h := s.Handler()
	for _, tt := range []struct {
		id   string
		code int
		ct   string
	}{{"ok", 200, "image/png"}, {"svg", 502, "application/json; charset=utf-8"}, {"none", 404, "application/json; charset=utf-8"}} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/apps/"+tt.id+"/icon", nil))
		if rec.Code != tt.code || rec.Header().Get("Content-Type") != tt.ct {
			t.Errorf("icon of %s: %d %q, want %d %q", tt.id, rec.Code, rec.Header().Get("Content-Type"), tt.code, tt.ct)
		}
	}
	// Served from the cache once verified, even if the source goes away.
	delete(src.files, "/i/ok")
	if _, _, err := s.Image(context.Background(), "ok", -1); err != nil {
		t.Fatalf("cached icon: %v", err)
	}
}

func TestPageIsEmbedded(t *testing.T) {
	h := New(Options{Source: fakeSource{}, StateDir: t.TempDir(), InventoryRoot: t.TempDir()}).Handler()
	for _, p := range []string{"/", "/app.js", "/app.css"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", p, nil))
		if rec.Code != 200 || rec.Body.Len() == 0 {
			t.Errorf("GET %s: %d", p, rec.Code)
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if body := rec.Body.String(); strings.Contains(body, "http://") || strings.Contains(body, "https://") {
		t.Error("the page references an external address")
	}
}
