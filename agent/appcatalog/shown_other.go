//go:build !darwin

package appcatalog

import (
	"fmt"
	"os"
	"path/filepath"
)

// DefaultShownDir is the product's folder in the user's XDG state
// directory ($XDG_STATE_HOME, by default ~/.local/state).
func DefaultShownDir() (string, error) {
	if d := os.Getenv("XDG_STATE_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "mobileatwork"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("catalog marker directory: %w", err)
	}
	return filepath.Join(home, ".local", "state", "mobileatwork"), nil
}
