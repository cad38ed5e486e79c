package agent

import (
	"os/user"

	"github.com/mobileatwork/mobileatwork/executor"
	"github.com/mobileatwork/mobileatwork/inventory"
	"github.com/mobileatwork/mobileatwork/protocol"
)

// DeviceFacts gathers what the device tells the server about itself.
func DeviceFacts(agentVersion string) protocol.Facts {
	f := inventory.DeviceFacts(agentVersion)
	out := protocol.Facts{
		SerialNumber: f.SerialNumber, Model: f.Model, OSVersion: f.OSVersion, OSBuild: f.OSBuild,
		Hostname: f.Hostname, AgentVersion: agentVersion, TimeZone: deviceTimeZone(),
	}
	if u, err := executor.ConsoleUser(); err == nil {
		out.ConsoleUser = u.Name
		if lu, err := user.Lookup(u.Name); err == nil {
			out.ConsoleUserFullName = lu.Name
		}
	}
	return out
}
