//go:build !darwin

package desktop

import (
	"os"
	"strings"
)

// DefaultOfferDir is on the tmpfs /run, empty at every boot.
const DefaultOfferDir = "/run/mobileatwork-ui"

// BootID is the kernel's per-boot id where Linux offers one.
func BootID() (string, error) {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}
