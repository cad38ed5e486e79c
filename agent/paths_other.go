//go:build !darwin

package agent

// The Linux twin follows the FHS.
const (
	DefaultStateDir   = "/var/lib/mobileatwork"
	DefaultLogFile    = "/var/log/mobileatwork/agent.log"
	DefaultUserRunDir = "/run/mobileatwork-run"
)
