// Package version identifies the build; the Makefile sets Version and Commit
// with -ldflags "-X".
package version

import "github.com/mobileatwork/mobileatwork/protocol"

var (
	// Version is the product version, e.g. 1.80.0.
	Version = "1.80.0-dev"
	// Commit is the source revision the binary was built from.
	Commit = "unknown"
)

// Capabilities are what this agent announces to the server.
func Capabilities() []string {
	return []string{protocol.CapSchedule, protocol.CapInventory, protocol.CapOnboarding, protocol.CapCancel, protocol.CapRetries, protocol.CapRunStarted, protocol.CapTriggers, protocol.CapRenew, protocol.CapSignerChain, protocol.CapRetiredSigners}
}
