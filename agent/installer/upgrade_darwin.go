//go:build darwin

package installer

import "path/filepath"

// DefaultUpgrader is the launchd upgrade job, its files in the agent's
// state directory (root only, the volume of the download). inner is unused:
// installer(8) runs in the job.
func DefaultUpgrader(inner Installer, stateDir string) Upgrader {
	return LaunchdJob{Dir: filepath.Join(stateDir, "upgrade")}
}
