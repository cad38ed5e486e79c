//go:build !darwin && !linux

package uninstall

// systemPlatform: no known service manager; files are still removed.
func systemPlatform() Platform { return Offline{} }
