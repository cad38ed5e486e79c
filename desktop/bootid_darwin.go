//go:build darwin

package desktop

import "golang.org/x/sys/unix"

// DefaultOfferDir is cleared by macOS at every boot.
const DefaultOfferDir = "/private/var/run/mobileatwork-ui"

// BootID is the kernel's per-boot UUID (sysctl kern.bootsessionuuid).
func BootID() (string, error) { return unix.Sysctl("kern.bootsessionuuid") }
