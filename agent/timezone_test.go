package agent

import (
	"errors"
	"os"
	"testing"
)

func TestZoneName(t *testing.T) {
	link := func(target string) func(string) (string, error) {
		return func(p string) (string, error) {
			if p != "/etc/localtime" {
				t.Errorf("readlink(%q), want /etc/localtime", p)
			}
			if target == "" {
				return "", &os.PathError{Op: "readlink", Path: p, Err: errors.New("invalid argument")}
			}
			return target, nil
		}
	}
	tests := []struct {
		name, local, target, want string
	}{
		{"TZ names the zone", "Europe/Paris", "/var/db/timezone/zoneinfo/America/New_York", "Europe/Paris"},
		{"TZ is a zoneinfo path", "/usr/share/zoneinfo/Asia/Tokyo", "", "Asia/Tokyo"},
		{"TZ empty is UTC", "UTC", "", "UTC"},
		{"macOS link", "Local", "/var/db/timezone/zoneinfo/Europe/Berlin", "Europe/Berlin"},
		{"Linux relative link", "Local", "../usr/share/zoneinfo/America/Argentina/Buenos_Aires", "America/Argentina/Buenos_Aires"},
		{"posix tree", "Local", "/usr/share/zoneinfo/posix/Europe/Lisbon", "Europe/Lisbon"},
		{"not a link", "Local", "", ""},
		{"link outside any zoneinfo", "Local", "/etc/zones/custom", ""},
		{"link to the zoneinfo dir itself", "Local", "/usr/share/zoneinfo/", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := zoneName(tt.local, link(tt.target)); got != tt.want {
				t.Errorf("zoneName(%q, -> %q) = %q, want %q", tt.local, tt.target, got, tt.want)
			}
		})
	}
}

func TestDeviceFactsReportTimeZone(t *testing.T) {
	if got, want := DeviceFacts("1.80.0").TimeZone, deviceTimeZone(); got != want {
		t.Fatalf("Facts.TimeZone = %q, want %q", got, want)
	}
}
