//go:build !darwin

package appcatalog

import (
	"net/http"
	"testing"

	"github.com/mobileatwork/mobileatwork/agent/installer"
	"github.com/mobileatwork/mobileatwork/agent/installer/installertest"
	"github.com/mobileatwork/mobileatwork/protocol"
)

func TestAgentUpgradeOffMacOSInstallsInPlace(t *testing.T) {
	root := t.TempDir()
	pkg, _ := installertest.PKG("com.mobileatwork.agent", "1.5.0")
	src := fakeSource{apps: []protocol.AppOffer{agentOffer("1.5.0", pkg)}, files: map[string][]byte{"/v1/apps/maw/package": pkg}}
	// No Upgrader: the default, which off macOS is the installer itself.
	s := New(Options{Source: src, Installer: installer.Twin{Root: root}, StateDir: t.TempDir(), InventoryRoot: root, AgentVersion: "1.4.2"})
	if code, _ := postInstall(s, "maw"); code != http.StatusAccepted {
		t.Fatalf("install: %d", code)
	}
	s.Wait()
	log, err := installer.ReadTwinLog(root)
	if err != nil || len(log) != 1 || log[0].PackageID != "com.mobileatwork.agent" || log[0].Version != "1.5.0" {
		t.Fatalf("twin log %+v %v", log, err)
	}
	if a := find(t, s, "maw"); a.Status != StatusInstalled || a.InstalledVersion != "1.5.0" {
		t.Fatalf("after the upgrade: %+v", a)
	}
}
