package appcatalog

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/mobileatwork/mobileatwork/agent/installer"
	"github.com/mobileatwork/mobileatwork/agent/installer/installertest"
	"github.com/mobileatwork/mobileatwork/protocol"
)

// agentOffer is the catalog's Mobile@Work entry at version, with pkg.
func agentOffer(version string, pkg []byte) protocol.AppOffer {
	o := protocol.AppOffer{ID: "maw", Name: "Mobile@Work", Kind: protocol.AppKindInHouse, PackageID: "com.mobileatwork.agent", Version: version}
	if pkg != nil {
		o.Package = &protocol.Asset{URL: "/v1/apps/maw/package", SHA256: protocol.SHA256Hex(pkg), Size: int64(len(pkg))}
	}
	return o
}

func TestAgentAppStatus(t *testing.T) {
	pkg := []byte("xar!")
	for _, tc := range []struct {
		name             string
		offer            protocol.AppOffer
		running, receipt string
		status, version  string
	}{
		{"newer offered", agentOffer("1.5.0", pkg), "1.4.2", "", StatusUpdate, "1.4.2"},
		{"newer offered, compared by parts", agentOffer("1.10", pkg), "1.9.3", "1.9.3", StatusUpdate, "1.9.3"},
		{"release of the running pre-release", agentOffer("1.80.0", pkg), "1.80.0-dev", "", StatusUpdate, "1.80.0-dev"},
		{"the running version", agentOffer("1.4.2", pkg), "1.4.2", "1.4.2", StatusInstalled, "1.4.2"},
		{"older offered", agentOffer("1.4.0", pkg), "1.4.2", "", StatusInstalled, "1.4.2"},
		{"receipt ahead while the daemon restarts", agentOffer("1.5.0", pkg), "1.4.2", "1.5.0", StatusInstalled, "1.5.0"},
		{"older receipt", agentOffer("1.4.2", pkg), "1.4.2", "1.3", StatusInstalled, "1.4.2"},
		{"no package to install", agentOffer("9.0", nil), "1.4.2", "", StatusInstalled, "1.4.2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			if tc.receipt != "" {
				writeReceipt(t, root, "com.mobileatwork.agent", tc.receipt)
			}
			s := New(Options{Source: fakeSource{apps: []protocol.AppOffer{tc.offer}}, StateDir: t.TempDir(), InventoryRoot: root, AgentVersion: tc.running})
			if a := find(t, s, "maw"); a.Status != tc.status || a.InstalledVersion != tc.version {
				t.Errorf("status %q version %q, want %q %q", a.Status, a.InstalledVersion, tc.status, tc.version)
			}
		})
	}
}

// noInstaller fails the test when the ordinary installer is used.
type noInstaller struct{ t *testing.T }

func (n noInstaller) Install(context.Context, string) error {
	n.t.Error("the agent's package went to the ordinary installer")
	return errors.New("not here")
}

// handOver records the packages the upgrader was given and fails with
// fails.
type handOver struct {
	mu    sync.Mutex
	got   [][]byte
	fails error
}

func (h *handOver) Upgrade(_ context.Context, pkg string) error {
	b, err := os.ReadFile(pkg)
	if err != nil {
		return err
	}
	h.mu.Lock()
	h.got = append(h.got, b)
	h.mu.Unlock()
	return h.fails
}

func postInstall(s *Service, id string) (int, string) {
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest("POST", "/api/apps/"+id+"/install", nil))
	return rec.Code, rec.Body.String()
}

func TestAgentInstallIsAnUpgrade(t *testing.T) {
	root := t.TempDir()
	pkg, err := installertest.PKG("com.mobileatwork.agent", "1.5.0")
	if err != nil {
		t.Fatal(err)
	}
	src := fakeSource{apps: []protocol.AppOffer{agentOffer("1.5.0", pkg)}, files: map[string][]byte{"/v1/apps/maw/package": pkg}}
	up := &handOver{}
	s := New(Options{Source: src, Installer: noInstaller{t}, Upgrader: up, StateDir: t.TempDir(), InventoryRoot: root, AgentVersion: "1.4.2"})
	if code, body := postInstall(s, "maw"); code != http.StatusAccepted {
		t.Fatalf("install: %d %s", code, body)
	}
	s.Wait()
	if len(up.got) != 1 || !bytes.Equal(up.got[0], pkg) {
		t.Fatalf("upgrader given %d packages, want the verified download once", len(up.got))
	}
	// Handed over: installing until this Mac has the version, and not
	// started twice.
	if a := find(t, s, "maw"); a.Status != StatusInstalling {
		t.Fatalf("after the hand-over: %+v", a)
	}
	if code, _ := postInstall(s, "maw"); code != http.StatusConflict {
		t.Errorf("second upgrade while one runs: %d, want 409", code)
	}
	writeReceipt(t, root, "com.mobileatwork.agent", "1.5.0")
	if a := find(t, s, "maw"); a.Status != StatusInstalled || a.InstalledVersion != "1.5.0" {
		t.Fatalf("once installed: %+v", a)
	}
	if code, body := postInstall(s, "maw"); code != http.StatusConflict || !strings.Contains(body, "already has this version") {
		t.Errorf("upgrade to the version it has: %d %s, want 409", code, body)
	}
	if len(up.got) != 1 {
		t.Errorf("upgrader ran %d times", len(up.got))
	}
}

func TestAgentUpgradeRefusesAndFails(t *testing.T) {
	agentPkg, _ := installertest.PKG("com.mobileatwork.agent", "1.5.0")
	other, _ := installertest.PKG("com.example.tools", "1.5.0")
	for _, tc := range []struct {
		name  string
		pkg   []byte
		fails error
		want  string
		calls int
	}{
		{"another package under the agent's id", other, nil, "not the agent's package", 0},
		{"the hand-over fails", agentPkg, installer.ErrUpgradeRunning, "already running", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := fakeSource{apps: []protocol.AppOffer{agentOffer("1.5.0", tc.pkg)}, files: map[string][]byte{"/v1/apps/maw/package": tc.pkg}}
			up := &handOver{fails: tc.fails}
			s := New(Options{Source: src, Installer: noInstaller{t}, Upgrader: up, StateDir: t.TempDir(), InventoryRoot: t.TempDir(), AgentVersion: "1.4.2"})
			if code, _ := postInstall(s, "maw"); code != http.StatusAccepted {
				t.Fatalf("install: %d", code)
			}
			s.Wait()
			a := find(t, s, "maw")
			if a.Status != StatusFailed || !strings.Contains(a.Error, tc.want) || len(up.got) != tc.calls {
				t.Fatalf("%+v after %d hand-overs, want failed saying %q", a, len(up.got), tc.want)
			}
			// A failed upgrade may be tried again.
			if code, _ := postInstall(s, "maw"); code != http.StatusAccepted {
				t.Errorf("try again: %d", code)
			}
			s.Wait()
		})
	}
}
