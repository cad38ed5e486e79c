package e2e

import (
	"bytes"
	"context"
	"debug/macho"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/mobileatwork/mobileatwork/agent"
	"github.com/mobileatwork/mobileatwork/agent/appcatalog"
)

type publishedJSON struct {
	App struct {
		ID         string `json:"id"`
		Name       string `json:"name"`
		Kind       string `json:"kind"`
		PackageID  string `json:"package_id"`
		Version    string `json:"version"`
		FileSHA256 string `json:"file_sha256"`
	} `json:"app"`
	Previous string `json:"previous_version"`
}

func publishAgent(t *testing.T, data, agentDir, version string) publishedJSON {
	t.Helper()
	stdout, stderr, code := run(t, "mobileatwork-server", "package", "--catalog", "--data", data, "--agent-dir", agentDir, "--version", version, "--json")
	if code != 0 {
		t.Fatalf("package --catalog --version %s: %s", version, stderr)
	}
	var p publishedJSON
	if err := json.Unmarshal([]byte(stdout), &p); err != nil {
		t.Fatalf("package --catalog --json: %v\n%s", err, stdout)
	}
	return p
}

// recordingUpgrader keeps the packages handed to it.
type recordingUpgrader struct {
	mu  sync.Mutex
	got [][]byte
}

func (r *recordingUpgrader) Upgrade(_ context.Context, pkg string) error {
	b, err := os.ReadFile(pkg)
	r.mu.Lock()
	r.got = append(r.got, b)
	r.mu.Unlock()
	return err
}

// refusingInstaller stands for the ordinary installer, which the agent's
// own package must never reach.
type refusingInstaller struct{}

func (refusingInstaller) Install(context.Context, string) error {
	return errors.New("the agent's package reached the ordinary installer")
}

// TestCatalogAgentSelfUpgrade publishes the agent in the catalog with the
// CLI, distributes it, and upgrades an enrolled agent through Apps@Work
// with the package of its signed check-in.
func TestCatalogAgentSelfUpgrade(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	dir := fakeAgentDir(t, macho.CpuArm64, macho.CpuAmd64)
	p := publishAgent(t, e.data, dir, "1.81.0")
	if p.App.Name != "Mobile@Work" || p.App.Kind != "inhouse" || p.App.PackageID != "com.mobileatwork.agent" || p.App.Version != "1.81.0" || p.Previous != "" {
		t.Fatalf("published %+v", p)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"same version", []string{"--catalog", "--agent-dir", dir, "--version", "1.81.0"}, "not newer than the published 1.81.0"},
		{"older version", []string{"--catalog", "--agent-dir", dir, "--version", "1.80.9"}, "not newer"},
		{"a token flag", []string{"--catalog", "--agent-dir", dir, "--version", "2.0", "--server-url", e.url}, "--server-url is for an enrolling package"},
		{"an output file", []string{"--catalog", "--agent-dir", dir, "--version", "2.0", "--out", filepath.Join(t.TempDir(), "x.pkg")}, "--out is for an enrolling package"},
		{"force alone", []string{"--agent-dir", dir, "--force"}, "--force goes with --catalog"},
		{"no agent dir", []string{"--catalog", "--version", "2.0"}, "--agent-dir DIR is required"},
	} {
		_, stderr, code := run(t, "mobileatwork-server", append([]string{"package", "--data", e.data}, tc.args...)...)
		t.Run(tc.name, func(t *testing.T) { oneErrorLine(t, stderr, code, tc.want) })
	}
	if apps, err := e.srv.Apps(context.Background()); err != nil || len(apps) != 1 || apps[0].Version != "1.81.0" || apps[0].FileSHA256 != p.App.FileSHA256 {
		t.Fatalf("catalog after the refusals: %+v %v", apps, err)
	}
	if n := tokenCount(t, e.data); n != 0 {
		t.Errorf("publishing made %d tokens", n)
	}

	root := t.TempDir()
	a := newAgentWith(t, e.enroll(), func(o *agent.Options) { o.InventoryRoot = root })
	up := &recordingUpgrader{}
	svc := appcatalog.New(appcatalog.Options{
		Source: a, Installer: refusingInstaller{}, Upgrader: up, StateDir: a.StateDir(), InventoryRoot: root, AgentVersion: "1.80.0",
	})
	t.Cleanup(svc.Wait)
	checkin(t, a)
	if st := svc.State(context.Background()); len(st.Apps) != 0 {
		t.Fatalf("offered before app distribute: %+v", st.Apps)
	}
	if _, stderr, code := run(t, "mobileatwork-server", "app", "distribute", "--data", e.data, "--app", p.App.ID, "--to", "all"); code != 0 {
		t.Fatalf("app distribute: %s", stderr)
	}
	checkin(t, a)
	own := func() appcatalog.App {
		for _, x := range svc.State(context.Background()).Apps {
			if x.ID == p.App.ID {
				return x
			}
		}
		t.Fatal("Mobile@Work not in the catalog")
		return appcatalog.App{}
	}
	if x := own(); x.Status != appcatalog.StatusUpdate || x.InstalledVersion != "1.80.0" || !x.Installable {
		t.Fatalf("before the upgrade: %+v", x)
	}
	if err := svc.Install(context.Background(), p.App.ID); err != nil {
		t.Fatal(err)
	}
	svc.Wait()
	published, err := e.srv.Files.Get(p.App.FileSHA256, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	if len(up.got) != 1 || !bytes.Equal(up.got[0], published) {
		t.Fatalf("upgrader given %d packages, want the published one", len(up.got))
	}
	if x := own(); x.Status != appcatalog.StatusInstalling || x.Error != "" {
		t.Fatalf("after the hand-over: %+v", x)
	}

	// The next version updates the same entry, still distributed.
	next := publishAgent(t, e.data, dir, "1.82.0")
	if next.App.ID != p.App.ID || next.Previous != "1.81.0" {
		t.Fatalf("update %+v", next)
	}
	checkin(t, a)
	if x := own(); x.Version != "1.82.0" || x.Package == nil || x.Package.SHA256 != next.App.FileSHA256 {
		t.Fatalf("offer after the update: %+v", x)
	}
	// Once the new agent runs, it is installed.
	done := appcatalog.New(appcatalog.Options{Source: a, Installer: refusingInstaller{}, Upgrader: up, StateDir: a.StateDir(), InventoryRoot: root, AgentVersion: "1.82.0"})
	for _, x := range done.State(context.Background()).Apps {
		if x.ID == p.App.ID && (x.Status != appcatalog.StatusInstalled || x.InstalledVersion != "1.82.0") {
			t.Errorf("running the published version: %+v", x)
		}
	}
}
