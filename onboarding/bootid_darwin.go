//go:build darwin

package onboarding

import "golang.org/x/sys/unix"

// DefaultSessionDir is cleared by macOS at every boot.
const DefaultSessionDir = "/private/var/run/mobileatwork-ui"

// BootID is the kernel's per-boot UUID (sysctl kern.bootsessionuuid).
func BootID() (string, error) { return unix.Sysctl("kern.bootsessionuuid") }
