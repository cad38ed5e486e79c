package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/agent"
	"github.com/mobileatwork/mobileatwork/internal/cli"
	"github.com/mobileatwork/mobileatwork/inventory"
	"github.com/mobileatwork/mobileatwork/onboarding"
	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/protocol/schedule"
)

// Every --json output keeps to snake_case keys and leaves unset times out.
func TestJSONOutputsAreClean(t *testing.T) {
	enrolled := enrolledStateDir(t)
	invRoot := inventoryRoot(t)
	obState := onboardingStateDir(t)
	tests := []struct {
		name string
		args []string
		has  []string // substrings proving the fixture reached what is checked
		not  []string
	}{
		{"status, not enrolled", []string{"status", "--json", "--state-dir", t.TempDir()}, []string{`"enrolled": false`}, []string{"enrolled_at", "last_checkin"}},
		{"status, enrolled", []string{"status", "--json", "--state-dir", enrolled}, []string{`"enrolled_at"`, `"last_checkin"`, `"state": "due"`, `"state": "scheduled"`, `"next"`, `"checkin_interval_minutes"`}, []string{"last_attempt"}},
		{"version", []string{"version", "--json"}, []string{`"capabilities"`}, nil},
		{"inventory", []string{"inventory", "--json", "--root", invRoot}, []string{`"install_date": "2026-01-02T03:04:05Z"`, `"com.example.undated"`, `"bundle_id": "com.example.app"`}, nil},
		{"onboarding status, pending", []string{"onboarding", "status", "--json", "--state-dir", t.TempDir()}, []string{`"state": "pending"`}, []string{"started_at"}},
		{"onboarding status, running", []string{"onboarding", "status", "--json", "--state-dir", obState}, []string{`"started_at"`, `"deadline"`, `"outcome": "running"`, `"waiting_for": [`}, []string{"ended_at", `"log"`, `"current"`}},
		{"schedule preview", []string{"schedule", "preview", "--json", "--daily", "09:00", "--from", "2027-01-01T00:00:00Z", "--count", "2"}, []string{`"runs"`}, nil},
		{"catalog list", []string{"catalog", "list", "--json", "--state-dir", t.TempDir(), "--root", t.TempDir()}, []string{`"apps"`}, []string{"received_at"}},
		{"uninstall dry run", []string{"uninstall", "--dry-run", "--json", "--root", t.TempDir()}, []string{`"dry_run": true`}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, _, err := execute(t, tc.args...)
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			for _, p := range cli.JSONProblems([]byte(out)) {
				t.Error(p)
			}
			for _, s := range tc.has {
				if !strings.Contains(out, s) {
					t.Errorf("output lacks %s:\n%s", s, out)
				}
			}
			for _, s := range tc.not {
				if strings.Contains(out, s) {
					t.Errorf("output has %s:\n%s", s, out)
				}
			}
		})
	}
}

// A receipt without an install date leaves install_date out, and the view
// prints everything else as inventory.Report's own JSON does.
func TestInventoryJSONMatchesReport(t *testing.T) {
	out, _, err := execute(t, "inventory", "--json", "--root", inventoryRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Receipts []map[string]any `json:"receipts"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	for _, r := range doc.Receipts {
		if _, ok := r["install_date"]; ok != (r["package_id"] == "com.example.dated") {
			t.Errorf("receipt %v: install_date present = %v", r, ok)
		}
	}

	rep := fullInventory(t)
	view, err := json.Marshal(inventoryJSON(rep))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	if string(view) != string(plain) {
		t.Errorf("inventory --json differs from the report beyond unset dates:\n got %s\nwant %s", view, plain)
	}
}

// agentInventory is a report with every field set.
func fullInventory(t *testing.T) inventory.Report {
	t.Helper()
	return inventory.Report{
		Facts:    &inventory.Facts{SerialNumber: "C02", Model: "Mac14,2", OSVersion: "15.1", OSBuild: "24B83", Hostname: "mac", AgentVersion: "1"},
		Receipts: []inventory.Receipt{{PackageID: "p", Version: "1", InstallDate: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), InstallPrefix: "/", InstallProcess: "installer"}},
		Apps:     []inventory.App{{BundleID: "b", Name: "n", Version: "1", Build: "2", Path: "/Applications/n.app"}},
		Errors:   []inventory.FileError{{Path: "/x", Error: "bad"}},
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, string(b))
}

// enrolledStateDir is the state of an enrolled agent that checked in once
// and holds two assignments: one to run once (due, no next run) and one
// daily (scheduled).
func enrolledStateDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "state")
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "device.key"), string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk})))
	writeJSON(t, filepath.Join(dir, "identity.json"), agent.Identity{
		DeviceID: "dev_1", ServerURL: "https://127.0.0.1:8443", Certificate: der, SigningCert: der, CACert: der,
		EnrolledAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
	})
	writeJSON(t, filepath.Join(dir, "status.json"), agent.Status{LastCheckin: time.Now().Add(-time.Minute)})
	daily, err := schedule.Parse(schedule.Daily, "09:00", nil, "utc", "", "")
	if err != nil {
		t.Fatal(err)
	}
	once, err := schedule.Parse(schedule.Once, "", nil, "", "", "")
	if err != nil {
		t.Fatal(err)
	}
	writeJSON(t, filepath.Join(dir, "checkin.json"), protocol.CheckinPayload{
		ProtocolVersion: 1, DeviceID: "dev_1", Config: protocol.DefaultConfig,
		Configuration: &protocol.ConfigurationRef{ID: "cfg_default", Name: "default", Version: 1},
		Assignments: []protocol.Assignment{
			{ID: "asg_once", Version: 1, Name: "once", Schedule: once},
			{ID: "asg_daily", Version: 1, Name: "daily", Schedule: daily},
		},
	})
	return dir
}

// inventoryRoot holds a receipt with an install date, one without, and an app.
func inventoryRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	receipt := func(id, date string) string {
		return `<?xml version="1.0" encoding="UTF-8"?>
<plist version="1.0"><dict>
<key>PackageIdentifier</key><string>` + id + `</string>
<key>PackageVersion</key><string>1.0</string>
` + date + `<key>InstallPrefixPath</key><string>/</string>
</dict></plist>`
	}
	writeFile(t, filepath.Join(root, "var/db/receipts/com.example.dated.plist"), receipt("com.example.dated", "<key>InstallDate</key><date>2026-01-02T03:04:05Z</date>\n"))
	writeFile(t, filepath.Join(root, "var/db/receipts/com.example.undated.plist"), receipt("com.example.undated", ""))
	writeFile(t, filepath.Join(root, "Applications/Example.app/Contents/Info.plist"), `<?xml version="1.0" encoding="UTF-8"?>
<plist version="1.0"><dict>
<key>CFBundleIdentifier</key><string>com.example.app</string>
<key>CFBundleName</key><string>Example</string>
<key>CFBundleShortVersionString</key><string>1.0</string>
<key>CFBundleVersion</key><string>100</string>
</dict></plist>`)
	return root
}

// onboardingStateDir holds a running onboarding: started, with a deadline,
// not ended, and a log that status --json leaves out.
func onboardingStateDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	started := time.Now().Add(-time.Minute).UTC().Truncate(time.Second)
	writeJSON(t, filepath.Join(dir, onboarding.StateFile), map[string]any{
		"version": 1, "state": protocol.OnboardingRunning,
		"started_at": started, "deadline": started.Add(time.Hour),
		"stages": []any{map[string]any{"name": "Configurations", "items": []any{
			map[string]any{"id": "p1", "name": "Wi-Fi", "kind": protocol.ItemKindProfile, "status": protocol.ItemPending},
		}}},
		"background": []any{},
		"log":        []any{map[string]any{"at": started, "message": "started"}},
	})
	return dir
}
