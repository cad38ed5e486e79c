//go:build linux

package inventory

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestDeviceFactsLinux(t *testing.T) {
	oldRoot, oldUname, oldHost := factsRoot, uname, hostname
	t.Cleanup(func() { factsRoot, uname, hostname = oldRoot, oldUname, oldHost })
	uname = func() (string, error) { return "6.1.0-18-amd64", nil }
	hostname = func() (string, error) { return "build-01", nil }

	tests := []struct {
		name  string
		files map[string]string
		want  Facts
	}{
		{
			name: "dmi serial",
			files: map[string]string{
				"sys/class/dmi/id/product_serial": "PF3ABC12\n",
				"sys/class/dmi/id/product_name":   "ThinkPad X1\n",
				"etc/machine-id":                  "0123456789abcdef\n",
				"etc/os-release":                  "ID=debian\nVERSION_ID=\"12\"\n",
			},
			want: Facts{SerialNumber: "PF3ABC12", Model: "ThinkPad X1", OSVersion: "12"},
		},
		{
			name: "placeholder serial falls back to machine id",
			files: map[string]string{
				"sys/class/dmi/id/product_serial": "To be filled by O.E.M.\n",
				"etc/machine-id":                  "0123456789abcdef\n",
			},
			want: Facts{SerialNumber: "0123456789abcdef"},
		},
		{
			name:  "nothing readable",
			files: nil,
			want:  Facts{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			factsRoot = t.TempDir()
			for rel, content := range tt.files {
				mustWrite(t, filepath.Join(factsRoot, rel), []byte(content))
			}
			want := tt.want
			want.OSBuild, want.Hostname, want.AgentVersion = "6.1.0-18-amd64", "build-01", "1.73.0"
			if got := DeviceFacts("1.73.0"); got != want {
				t.Errorf("DeviceFacts = %+v, want %+v", got, want)
			}
		})
	}

	t.Run("failing probes leave fields empty", func(t *testing.T) {
		factsRoot = filepath.Join(t.TempDir(), "absent")
		uname = func() (string, error) { return "", errors.New("no uname") }
		hostname = func() (string, error) { return "", os.ErrPermission }
		if got := DeviceFacts("1.0"); got != (Facts{AgentVersion: "1.0"}) {
			t.Errorf("DeviceFacts = %+v", got)
		}
	})
}
