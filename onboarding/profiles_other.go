//go:build !darwin

package onboarding

import "path/filepath"

// ProfilesTwinDir is where, under the inventory root, the twin of the
// profiles database keeps one file per installed profile identifier.
const ProfilesTwinDir = "var/db/mobileatwork-profiles"

// DefaultProfiles is the directory twin under root.
func DefaultProfiles(root string) ProfileObserver {
	if root == "" {
		root = "/"
	}
	return DirProfiles{Dir: filepath.Join(root, ProfilesTwinDir)}
}
