//go:build !darwin && !linux

package inventory

import "os"

var hostname = os.Hostname

// DeviceFacts reports only the host name on platforms without a probe.
func DeviceFacts(agentVersion string) Facts {
	f := Facts{AgentVersion: agentVersion}
	f.Hostname, _ = hostname()
	return f
}
