//go:build darwin

package inventory

import (
	"errors"
	"testing"
)

func TestDeviceFactsDarwin(t *testing.T) {
	oldIoreg, oldSysctl, oldHost := ioregPlatform, sysctl, hostname
	t.Cleanup(func() { ioregPlatform, sysctl, hostname = oldIoreg, oldSysctl, oldHost })
	ioregPlatform = func() ([]byte, error) {
		return []byte(`  "IOPlatformSerialNumber" = "C02XK0AAJGH5"`), nil
	}
	values := map[string]string{"hw.model": "Mac14,2", "kern.osproductversion": "14.4.1", "kern.osversion": "23E224"}
	sysctl = func(name string) (string, error) {
		if v, ok := values[name]; ok {
			return v, nil
		}
		return "", errors.New("unknown sysctl")
	}
	hostname = func() (string, error) { return "mac-01", nil }
	want := Facts{SerialNumber: "C02XK0AAJGH5", Model: "Mac14,2", OSVersion: "14.4.1", OSBuild: "23E224",
		Hostname: "mac-01", AgentVersion: "1.73.0"}
	if got := DeviceFacts("1.73.0"); got != want {
		t.Errorf("DeviceFacts = %+v, want %+v", got, want)
	}

	ioregPlatform = func() ([]byte, error) { return nil, errors.New("ioreg missing") }
	if got := DeviceFacts("1.73.0"); got.SerialNumber != "" || got.Model != "Mac14,2" {
		t.Errorf("DeviceFacts with failing ioreg = %+v", got)
	}
}
