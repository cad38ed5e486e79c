//go:build !darwin

package onboarding

import "path/filepath"

// DefaultProfiles is the directory twin under root.
func DefaultProfiles(root string) ProfileObserver {
	if root == "" {
		root = "/"
	}
	return DirProfiles{Dir: filepath.Join(root, ProfilesTwinDir)}
}
