package e2e

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/agent"
	"github.com/mobileatwork/mobileatwork/inventory/invtest"
	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// uploads records the inventory requests that reach the server.
type uploads struct {
	mu        sync.Mutex
	n         int
	encodings []string
	rawBytes  []int // request body size on the wire
}

func (u *uploads) intercept(w http.ResponseWriter, r *http.Request, next http.Handler) {
	if r.URL.Path == protocol.PathInventory {
		body, _ := io.ReadAll(r.Body)
		u.mu.Lock()
		u.n++
		u.encodings = append(u.encodings, r.Header.Get("Content-Encoding"))
		u.rawBytes = append(u.rawBytes, len(body))
		u.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	next.ServeHTTP(w, r)
}

func (u *uploads) count() int { u.mu.Lock(); defer u.mu.Unlock(); return u.n }

func (e *env) packagerApp(name, packageID, version string) string {
	e.t.Helper()
	a, err := e.srv.AddApp(context.Background(), server.AddAppRequest{
		Name: name, Kind: protocol.AppKindPackager, PackageID: packageID, Version: version,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return a.ID
}

func installed(t *testing.T, v server.InventoryView) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, a := range v.PackagerApps {
		out[a.ID] = fmt.Sprintf("%v %s", a.Installed, a.InstalledVersion)
	}
	return out
}

func TestInventorySentOnChangeAndDaily(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	state := e.enroll() // certificates are issued at the real time: TLS checks them against it
	c := newClock(time.Now())
	e.srv.Now = c.Now
	root := t.TempDir()
	if err := invtest.WriteFixture(root, 6, 4); err != nil {
		t.Fatal(err)
	}
	// Fixture receipt i is com.example.pkg0000i at version 1.i.0.
	current := e.packagerApp("Current", "com.example.pkg00002", "1.2")
	newer := e.packagerApp("Needs 1.3", "com.example.pkg00003", "1.3.1")
	absent := e.packagerApp("Absent", "com.example.absent", "")

	u := &uploads{}
	e.setIntercept(u.intercept)
	a := newAgentWith(t, state, func(o *agent.Options) { o.InventoryRoot, o.Clock = root, c })
	cycle := func(wantUploads int, why string) {
		t.Helper()
		if err := a.Cycle(context.Background()); err != nil {
			t.Fatalf("%s: cycle: %v", why, err)
		}
		if got := u.count(); got != wantUploads {
			t.Fatalf("%s: %d inventory uploads so far, want %d", why, got, wantUploads)
		}
	}

	cycle(1, "first check-in")
	view, err := e.srv.DeviceInventory(context.Background(), a.DeviceID())
	if err != nil {
		t.Fatal(err)
	}
	if len(view.Receipts) != 6 || len(view.Apps) != 4 || len(view.Errors) != 0 || view.Device.SerialNumber != testFacts.SerialNumber {
		t.Fatalf("stored inventory: %d receipts, %d apps, errors %v, device %+v", len(view.Receipts), len(view.Apps), view.Errors, view.Device)
	}
	want := map[string]string{current: "true 1.2.0", newer: "false 1.3.0", absent: "false "}
	if got := installed(t, view); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("packager apps = %v, want %v", got, want)
	}

	cycle(1, "nothing changed")
	// Another process on the same state knows what was sent.
	a = newAgentWith(t, state, func(o *agent.Options) { o.InventoryRoot, o.Clock = root, c })
	cycle(1, "after a restart, nothing changed")

	// One receipt changes: the package was updated.
	fields := map[string]any{
		"PackageIdentifier": "com.example.pkg00003", "PackageVersion": "1.3.2",
		"InstallDate": invtest.BaseInstallDate.Add(1000 * time.Hour), "InstallPrefixPath": "/",
	}
	if err := invtest.WriteReceipt(root, "com.example.pkg00003", fields, true); err != nil {
		t.Fatal(err)
	}
	cycle(2, "one receipt changed")
	view, err = e.srv.DeviceInventory(context.Background(), a.DeviceID())
	if err != nil {
		t.Fatal(err)
	}
	if got := installed(t, view)[newer]; got != "true 1.3.2" {
		t.Fatalf("after the update, %q is %q, want installed at 1.3.2", "Needs 1.3", got)
	}

	c.Set(c.Now().Add(23 * time.Hour))
	cycle(2, "23 h later, nothing changed")
	c.Set(c.Now().Add(time.Hour + time.Minute))
	cycle(3, "more than 24 h after the last upload")
	cycle(3, "right after the daily upload")

	u.mu.Lock()
	defer u.mu.Unlock()
	for i, enc := range u.encodings {
		if enc != "gzip" {
			t.Errorf("upload %d: Content-Encoding %q, want gzip", i+1, enc)
		}
	}
}

func TestInventoryUploadFailureIsRetried(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	state := e.enroll()
	root := t.TempDir()
	if err := invtest.WriteFixture(root, 2, 2); err != nil {
		t.Fatal(err)
	}
	down := true
	var mu sync.Mutex
	e.setIntercept(func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		mu.Lock()
		d := down
		mu.Unlock()
		if d && r.URL.Path == protocol.PathInventory {
			http.Error(w, `{"error":"maintenance"}`, http.StatusBadRequest)
			return
		}
		next.ServeHTTP(w, r)
	})
	a := newAgentWith(t, state, func(o *agent.Options) { o.InventoryRoot = root })
	if err := a.Cycle(context.Background()); err == nil || !strings.Contains(err.Error(), "inventory") {
		t.Fatalf("cycle = %v, want an inventory error", err)
	}
	mu.Lock()
	down = false
	mu.Unlock()
	// Nothing was acknowledged: the unchanged inventory goes out next time.
	if sent, err := a.SendInventory(context.Background()); err != nil || !sent {
		t.Fatalf("SendInventory = %v, %v; want sent", sent, err)
	}
	if _, err := e.srv.Store.Inventory(context.Background(), a.DeviceID()); err != nil {
		t.Fatal(err)
	}
}

// gz compresses b.
func gz(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func TestMalformedInventoryIsRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	state := e.enroll()
	other := e.enroll() // a second device, whose id the first one must not use
	otherID := newAgent(t, other).DeviceID()
	root := t.TempDir()
	if err := invtest.WriteFixture(root, 2, 2); err != nil {
		t.Fatal(err)
	}

	// Each case rewrites the agent's genuine upload on its way in, keeping
	// the device's TLS connection, so the server judges the body alone.
	tests := []struct {
		name    string
		rewrite func(report map[string]any) []byte // the body as it reaches the server
		status  int
		want    string
	}{
		{"not gzip although announced", func(map[string]any) []byte { return []byte(`{"device_id":"x"}`) }, 400, "gzip"},
		{"not JSON", func(map[string]any) []byte { return gz([]byte("<plist/>")) }, 400, "JSON"},
		{"receipt without id", func(r map[string]any) []byte {
			r["receipts"].([]any)[0].(map[string]any)["package_id"] = ""
			return gzJSON(r)
		}, 400, "package_id"},
		{"too many apps", func(r map[string]any) []byte {
			apps := make([]any, protocol.MaxInventoryItems+1)
			for i := range apps {
				apps[i] = map[string]any{"path": "/Applications/A.app"}
			}
			r["apps"] = apps
			return gzJSON(r)
		}, 400, "limit"},
		{"over-long name", func(r map[string]any) []byte {
			r["apps"].([]any)[0].(map[string]any)["name"] = strings.Repeat("n", protocol.MaxInventoryString+1)
			return gzJSON(r)
		}, 400, "limit"},
		{"decompresses beyond the limit", func(map[string]any) []byte {
			return gz(bytes.Repeat([]byte(" "), protocol.MaxRequestBody+10))
		}, 413, "too large"},
		{"another device's id", func(r map[string]any) []byte {
			r["device_id"] = otherID
			return gzJSON(r)
		}, 403, "does not match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.setIntercept(func(w http.ResponseWriter, r *http.Request, next http.Handler) {
				if r.URL.Path == protocol.PathInventory {
					zr, err := gzip.NewReader(r.Body)
					if err != nil {
						http.Error(w, err.Error(), 500)
						return
					}
					var report map[string]any
					if err := json.NewDecoder(zr).Decode(&report); err != nil {
						http.Error(w, err.Error(), 500)
						return
					}
					body := tt.rewrite(report)
					r.Body = io.NopCloser(bytes.NewReader(body))
					r.ContentLength = int64(len(body))
				}
				next.ServeHTTP(w, r)
			})
			a := newAgentWith(t, state, func(o *agent.Options) { o.InventoryRoot = root })
			_, err := a.SendInventory(context.Background())
			var he *agent.HTTPError
			if !errors.As(err, &he) || he.Status != tt.status || !strings.Contains(he.Message, tt.want) {
				t.Fatalf("SendInventory = %v, want %d mentioning %q", err, tt.status, tt.want)
			}
			for _, dev := range []string{a.DeviceID(), otherID} {
				if _, err := e.srv.Store.Inventory(context.Background(), dev); !errors.Is(err, store.ErrNotFound) {
					t.Fatalf("inventory of %s stored after a refusal: %v", dev, err)
				}
			}
		})
	}
}

func gzJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return gz(b)
}

func TestServerCLIAppsAndInventory(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	state := e.enroll()
	root := t.TempDir()
	if err := invtest.WriteFixture(root, 4, 3); err != nil {
		t.Fatal(err)
	}
	a := newAgentWith(t, state, func(o *agent.Options) { o.InventoryRoot = root })
	if err := a.Cycle(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv := func(args ...string) (string, string, int) {
		return run(t, "mobileatwork-server", append(args, "--data", e.data)...)
	}
	pkg := filepath.Join(t.TempDir(), "Tools.pkg")
	if err := os.WriteFile(pkg, []byte("xar!\x00\x1cflat package body"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, stderr, code := srv("app", "add", "--name", "Tools", "--kind", "packager", "--package-id", "com.example.pkg00001",
		"--version", "1.1", "--priority", "--file", pkg)
	if code != 0 {
		t.Fatalf("app add: %s", stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	appID := lines[len(lines)-1]
	if !strings.HasPrefix(appID, "app_") {
		t.Fatalf("app add printed %q, want the id last", out)
	}
	if _, stderr, code := srv("app", "add", "--name", "Viewer", "--kind", "packager", "--bundle-id", "com.example.app00002", "--version", "3"); code != 0 {
		t.Fatalf("app add: %s", stderr)
	}

	out, _, code = srv("app", "list", "--json")
	var apps []map[string]any
	if err := json.Unmarshal([]byte(out), &apps); err != nil || code != 0 || len(apps) != 2 {
		t.Fatalf("app list --json: %d %v %s", code, err, out)
	}
	if apps[0]["id"] != appID || apps[0]["priority"] != true || apps[0]["file_size"] != float64(len("xar!\x00\x1cflat package body")) {
		t.Fatalf("app list --json: %v", apps[0])
	}

	out, stderr, code = srv("inventory", "--device", a.DeviceID(), "--json")
	if code != 0 {
		t.Fatalf("inventory --json: %s", stderr)
	}
	var view struct {
		Device struct {
			ID           string  `json:"id"`
			SerialNumber string  `json:"serial_number"`
			AgentVersion string  `json:"agent_version"`
			LastCheckin  *string `json:"last_checkin"`
		} `json:"device"`
		Receipts     []map[string]any `json:"receipts"`
		Apps         []map[string]any `json:"apps"`
		Errors       []map[string]any `json:"errors"`
		CollectedAt  string           `json:"collected_at"`
		PackagerApps []struct {
			ID               string `json:"id"`
			PackageID        string `json:"package_id"`
			BundleID         string `json:"bundle_id"`
			Version          string `json:"version"`
			Installed        bool   `json:"installed"`
			InstalledVersion string `json:"installed_version"`
		} `json:"packager_apps"`
	}
	if err := json.Unmarshal([]byte(out), &view); err != nil {
		t.Fatalf("inventory --json: %v\n%s", err, out)
	}
	if view.Device.ID != a.DeviceID() || view.Device.SerialNumber != testFacts.SerialNumber || view.Device.AgentVersion != "1.80.0" ||
		view.Device.LastCheckin == nil || len(view.Receipts) != 4 || len(view.Apps) != 3 || view.Errors == nil || view.CollectedAt == "" {
		t.Fatalf("inventory --json: %s", out)
	}
	if len(view.PackagerApps) != 2 {
		t.Fatalf("packager_apps: %+v", view.PackagerApps)
	}
	tools, viewer := view.PackagerApps[0], view.PackagerApps[1]
	if tools.ID != appID || tools.PackageID != "com.example.pkg00001" || !tools.Installed || tools.InstalledVersion != "1.1.0" {
		t.Errorf("Tools: %+v, want installed at 1.1.0", tools)
	}
	// Fixture app 2 is at version 2.2: older than the 3 required.
	if viewer.BundleID != "com.example.app00002" || viewer.Installed || viewer.InstalledVersion != "2.2" {
		t.Errorf("Viewer: %+v, want not installed, 2.2 found", viewer)
	}

	out, _, code = srv("inventory", "--device", a.DeviceID())
	if code != 0 || !strings.Contains(out, "com.example.pkg00003") || !strings.Contains(out, "INSTALLED") {
		t.Fatalf("inventory table: %d\n%s", code, out)
	}

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"inventory", "--device", "dev_nope"}, "no device"},
		{[]string{"inventory"}, "--device"},
		{[]string{"app", "add", "--name", "X", "--kind", "packager"}, "--package-id"},
		{[]string{"app", "add", "--name", "X", "--kind", "vpp", "--bundle-id", "a.b"}, "--kind"},
		{[]string{"app", "add", "--name", "X", "--kind", "packager", "--package-id", "com.example.pkg00001"}, "already"},
		{[]string{"app", "add", "--name", "X", "--kind", "inhouse", "--package-id", "a.b", "--file", state}, "flat PKG"},
	} {
		_, stderr, code := srv(tt.args...)
		oneErrorLine(t, stderr, code, tt.want)
	}
	out, _, _ = srv("app", "list", "--json")
	if err := json.Unmarshal([]byte(out), &apps); err != nil || len(apps) != 2 {
		t.Fatalf("catalog changed by refused commands: %s", out)
	}
}
