//go:build !darwin

package installer

// DefaultUpgrader installs in place with inner: off macOS no service
// manager restarts the agent from its package.
func DefaultUpgrader(inner Installer, stateDir string) Upgrader { return Direct{Installer: inner} }
