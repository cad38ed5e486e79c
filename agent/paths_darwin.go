//go:build darwin

package agent

// Apple locations: state under Application Support (root only), logs where
// Console.app and sysdiagnose look for them.
const (
	DefaultStateDir = "/Library/Application Support/MobileAtWork"
	DefaultLogFile  = "/Library/Logs/MobileAtWork/agent.log"
)
