package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server"
	"github.com/mobileatwork/mobileatwork/server/jsonview"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// deviceTenant is a tenant with devices, as enrollment stores them.
func deviceTenant(t *testing.T, devs ...store.Device) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "tenant")
	if _, errOut, code := run(t, "", "init", "--data", dir); code != 0 {
		t.Fatal(errOut)
	}
	s, err := server.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, d := range devs {
		if err := s.Store.CreateDevice(t.Context(), d); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestDeviceRetire(t *testing.T) {
	at := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	dir := deviceTenant(t,
		store.Device{ID: "dev_1", Facts: protocol.Facts{SerialNumber: "C02ONE"}, CertSerial: "01", EnrolledAt: at},
		store.Device{ID: "dev_2", Facts: protocol.Facts{SerialNumber: "C02TWO"}, CertSerial: "02", EnrolledAt: at.Add(time.Minute)})
	out, errOut, code := run(t, "", "device", "retire", "dev_1", "--reason", "stolen at the station", "--data", dir)
	if code != 0 || !strings.HasPrefix(out, "device dev_1 retired: ") || !strings.Contains(out, "stolen at the station") {
		t.Fatalf("retire: %q %q %d", out, errOut, code)
	}
	out, _, _ = run(t, "", "devices", "--data", dir)
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "dev_") && strings.Contains(l, "(retired)") != strings.HasPrefix(l, "dev_1") {
			t.Errorf("devices line %q: want the retired mark on dev_1 only", l)
		}
	}
	out, _, _ = run(t, "", "device", "show", "dev_1", "--data", dir)
	if !strings.Contains(out, "retired:") || !strings.Contains(out, "by local:") || !strings.Contains(out, "stolen at the station") {
		t.Errorf("device show lacks when, by whom and why:\n%s", out)
	}
	out, _, _ = run(t, "", "device", "show", "dev_1", "--json", "--data", dir)
	var d jsonview.DeviceDetail
	if err := json.Unmarshal([]byte(out), &d); err != nil || d.Retired == nil || d.Retired.Reason != "stolen at the station" || d.Retired.At == nil {
		t.Errorf("device show --json: %v %+v", err, d.Retired)
	}
	// Refusals: one error line, a non-zero exit, nothing changed.
	for _, tc := range []struct {
		name string
		args []string
		says string
	}{
		{"twice", []string{"device", "retire", "dev_1"}, "retired already"},
		{"unknown", []string{"device", "retire", "dev_nope"}, `no device "dev_nope"`},
		{"no id", []string{"device", "retire"}, "takes 1 argument"},
		{"bad reason", []string{"device", "retire", "dev_2", "--reason", "a\x1b[2Jb"}, "control character"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := run(t, "", append(tc.args, "--data", dir)...)
			lines := strings.Split(strings.TrimRight(errOut, "\n"), "\n")
			if code == 0 || out != "" || len(lines) != 1 || !strings.HasPrefix(lines[0], "error: ") || !strings.Contains(lines[0], tc.says) {
				t.Errorf("exit %d, stdout %q, stderr %q; want one error line saying %q", code, out, errOut, tc.says)
			}
		})
	}
	out, _, _ = run(t, "", "devices", "--json", "--data", dir)
	var list []jsonview.Device
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list) != 2 || list[1].Retired != nil || list[0].Retired.Reason != "stolen at the station" {
		t.Errorf("after refusals: %v %s", err, out)
	}
}

// What a device reports reaches the administrator's terminal escaped, in
// tables and in the device's page; --json keeps it exact.
func TestDeviceTextIsEscapedForTheTerminal(t *testing.T) {
	hostile := "mac\x1b]0;owned\x07\x1b[2J\u009b31m\u202e"
	dir := deviceTenant(t, store.Device{ID: "dev_1", Facts: protocol.Facts{SerialNumber: "C02\x1b[8m", Hostname: hostile},
		CertSerial: "01", EnrolledAt: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC),
		RecentLog: []protocol.LogLine{{Level: "warn", Message: "disk \x1b[31mfull"}}})
	for _, args := range [][]string{{"devices"}, {"device", "show", "dev_1"}, {"devices", "--json"}, {"device", "show", "dev_1", "--json"}} {
		out, errOut, code := run(t, "", append(args, "--data", dir)...)
		if code != 0 {
			t.Fatalf("%v: %s", args, errOut)
		}
		if strings.ContainsAny(out, "\x1b\x07\u009b\u202e") {
			t.Errorf("%v wrote terminal controls: %q", args, out)
		}
	}
	out, _, _ := run(t, "", "device", "show", "dev_1", "--json", "--data", dir)
	var d jsonview.DeviceDetail
	if err := json.Unmarshal([]byte(out), &d); err != nil || d.Facts.Hostname != hostile {
		t.Errorf("--json host name %q, %v; want it exact", d.Facts.Hostname, err)
	}
}
