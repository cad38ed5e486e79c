package installer

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/mobileatwork/mobileatwork/agent/installer/installertest"
	"github.com/mobileatwork/mobileatwork/inventory"
)

func writePKG(t *testing.T, id, version string, apps ...string) string {
	t.Helper()
	b, err := installertest.PKG(id, version, apps...)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "Tools.pkg")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSystemInstall(t *testing.T) {
	tests := []struct {
		name    string
		out     string
		err     error
		wantErr string
	}{
		{"success", "installer: The install was successful.", nil, ""},
		{"failure carries output", "installer: Error - the package is damaged", errors.New("exit status 1"), "the package is damaged"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			s := System{Run: func(ctx context.Context, name string, args ...string) ([]byte, error) {
				got = append([]string{name}, args...)
				return []byte(tt.out), tt.err
			}}
			err := s.Install(context.Background(), "/Library/Caches/x.pkg")
			want := []string{"/usr/sbin/installer", "-pkg", "/Library/Caches/x.pkg", "-target", "/"}
			if !slices.Equal(got, want) {
				t.Fatalf("ran %q, want %q", got, want)
			}
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("Install = %v, want error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestReadComponents(t *testing.T) {
	p := writePKG(t, "com.example.tools", "2.1.0", "Applications/Tools.app", "Applications/Tools.app/Contents/Helpers/Helper.app", "Applications/Utilities/Probe.app")
	comps, err := ReadComponents(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(comps) != 1 {
		t.Fatalf("components %+v", comps)
	}
	c := comps[0]
	if c.ID != "com.example.tools" || c.Version != "2.1.0" || c.InstallLocation != "/" {
		t.Fatalf("component %+v", c)
	}
	if want := []string{"/Applications/Tools.app", "/Applications/Utilities/Probe.app"}; !slices.Equal(c.Apps, want) {
		t.Fatalf("apps %q, want %q (nested bundles left out)", c.Apps, want)
	}

	notPKG := filepath.Join(t.TempDir(), "x.pkg")
	os.WriteFile(notPKG, []byte("not a xar archive at all, sorry"), 0o600)
	if _, err := ReadComponents(notPKG); err == nil {
		t.Fatal("ReadComponents accepted a file that is not a xar archive")
	}
}

func TestTwinInstallIsSeenByInventory(t *testing.T) {
	root := t.TempDir()
	at := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	tw := Twin{Root: root, Clock: clockwork.NewFakeClockAt(at)}
	p := writePKG(t, "com.example.tools", "2.1.0", "Applications/Tools.app")
	if err := tw.Install(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	rep, err := inventory.Collect(context.Background(), inventory.Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Receipts) != 1 || len(rep.Errors) != 0 {
		t.Fatalf("inventory %+v", rep)
	}
	r := rep.Receipts[0]
	if r.PackageID != "com.example.tools" || r.Version != "2.1.0" || !r.InstallDate.Equal(at) || r.InstallProcess != "installer" {
		t.Fatalf("receipt %+v", r)
	}
	log, err := ReadTwinLog(root)
	if err != nil || len(log) != 1 || log[0].PackageID != "com.example.tools" || log[0].Package != "Tools.pkg" {
		t.Fatalf("twin log %+v, %v", log, err)
	}
}

func TestTwinRefusesBadPackages(t *testing.T) {
	root := t.TempDir()
	tw := Twin{Root: root}
	garbage := filepath.Join(t.TempDir(), "bad.pkg")
	os.WriteFile(garbage, []byte("xar!garbage"), 0o600)
	escaping := writePKG(t, "../../etc/evil", "1")
	for name, p := range map[string]string{"garbage": garbage, "escaping id": escaping} {
		t.Run(name, func(t *testing.T) {
			if err := tw.Install(context.Background(), p); err == nil {
				t.Fatal("Install accepted it")
			}
			if entries, _ := os.ReadDir(filepath.Join(root, "var", "db", "receipts")); len(entries) != 0 {
				t.Fatalf("receipts written: %v", entries)
			}
			if log, _ := ReadTwinLog(root); len(log) != 0 {
				t.Fatalf("install logged: %+v", log)
			}
		})
	}
}

// The twin never writes the host's own /var/db: without a stand-in volume
// it refuses.
func TestTwinNeedsAStandInVolume(t *testing.T) {
	p := writePKG(t, "com.example.tools", "2.1.0", "Applications/Tools.app")
	for _, root := range []string{"", "/", "//"} {
		err := Twin{Root: root}.Install(context.Background(), p)
		if err == nil || !strings.Contains(err.Error(), "--root") {
			t.Errorf("Twin{Root: %q}.Install = %v; want a refusal naming --root", root, err)
		}
	}
}
