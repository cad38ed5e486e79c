package onboarding

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

const profilesXML = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>_computerlevel</key>
	<array>
		<dict>
			<key>ProfileDisplayName</key>
			<string>Wi-Fi</string>
			<key>ProfileIdentifier</key>
			<string>com.example.wifi</string>
			<key>ProfileInstallDate</key>
			<string>2026-11-27 09:01:02 +0000</string>
		</dict>
		<dict>
			<key>ProfileIdentifier</key>
			<string>com.example.vpn</string>
		</dict>
	</array>
	<key>ada</key>
	<array>
		<dict>
			<key>ProfileIdentifier</key>
			<string>com.example.mail</string>
		</dict>
	</array>
</dict>
</plist>`

func TestParseProfilesList(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []string
		wantErr bool
	}{
		{"device and user profiles", profilesXML, []string{"com.example.mail", "com.example.vpn", "com.example.wifi"}, false},
		{"nothing installed", "\n", nil, false},
		{"not a plist", "There are no configuration profiles installed", nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseProfilesList([]byte(tc.in))
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if keys := slices.Sorted(maps.Keys(got)); !slices.Equal(keys, tc.want) {
				t.Errorf("identifiers = %q, want %q", keys, tc.want)
			}
		})
	}
}

func TestDirProfiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "profiles")
	d := DirProfiles{Dir: dir}
	got, err := d.InstalledProfiles(t.Context())
	if err != nil || len(got) != 0 {
		t.Fatalf("missing directory: %v, %v; want none", got, err)
	}
	os.MkdirAll(dir, 0o700)
	os.WriteFile(filepath.Join(dir, "com.example.wifi"), nil, 0o600)
	os.WriteFile(filepath.Join(dir, ".hidden"), nil, 0o600)
	got, err = d.InstalledProfiles(t.Context())
	if err != nil || !got["com.example.wifi"] || len(got) != 1 {
		t.Errorf("profiles = %v, %v; want com.example.wifi only", got, err)
	}
}
