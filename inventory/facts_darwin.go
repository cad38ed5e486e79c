//go:build darwin

package inventory

import (
	"context"
	"os"
	"os/exec"
	"time"

	"golang.org/x/sys/unix"
)

// Probes used by DeviceFacts; tests replace them.
var (
	ioregPlatform = func() ([]byte, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return exec.CommandContext(ctx, "/usr/sbin/ioreg", "-rd1", "-c", "IOPlatformExpertDevice").Output()
	}
	sysctl   = unix.Sysctl
	hostname = os.Hostname
)

// DeviceFacts reports this Mac's serial number, model identifier, macOS
// version and build, and host name. A probe that fails leaves its field empty.
func DeviceFacts(agentVersion string) Facts {
	f := Facts{AgentVersion: agentVersion}
	if out, err := ioregPlatform(); err == nil {
		f.SerialNumber = parseIoregSerial(out)
	}
	f.Model, _ = sysctl("hw.model")
	f.OSVersion, _ = sysctl("kern.osproductversion")
	f.OSBuild, _ = sysctl("kern.osversion")
	f.Hostname, _ = hostname()
	return f
}
