//go:build darwin

package agent

// Apple locations: state under Application Support (root only), logs where
// Console.app and sysdiagnose look for them, console-user run directories
// where a reboot clears what a crash left.
const (
	DefaultStateDir   = "/Library/Application Support/MobileAtWork"
	DefaultLogFile    = "/Library/Logs/MobileAtWork/agent.log"
	DefaultUserRunDir = "/private/var/run/mobileatwork-run"
)
