//go:build linux

package inventory

import (
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// Probes used by DeviceFacts; tests replace them.
var (
	factsRoot = "/"
	uname     = func() (string, error) {
		var u unix.Utsname
		if err := unix.Uname(&u); err != nil {
			return "", err
		}
		return unix.ByteSliceToString(u.Release[:]), nil
	}
	hostname = os.Hostname
)

// DeviceFacts reports the DMI serial number (the machine id where firmware
// has none), product name, os-release VERSION_ID, kernel release and host
// name. A probe that fails leaves its field empty.
func DeviceFacts(agentVersion string) Facts {
	f := Facts{AgentVersion: agentVersion}
	f.SerialNumber = readFact("sys/class/dmi/id/product_serial")
	if placeholderSerials[f.SerialNumber] {
		f.SerialNumber = readFact("etc/machine-id")
	}
	f.Model = readFact("sys/class/dmi/id/product_name")
	if b, err := os.ReadFile(filepath.Join(factsRoot, "etc/os-release")); err == nil {
		f.OSVersion = parseOSRelease(b, "VERSION_ID")
	}
	f.OSBuild, _ = uname()
	f.Hostname, _ = hostname()
	return f
}

func readFact(rel string) string {
	b, err := os.ReadFile(filepath.Join(factsRoot, rel))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
