//go:build darwin

package appcatalog

import (
	"fmt"
	"os"
	"path/filepath"
)

// DefaultShownDir is the user's Application Support folder of the product.
func DefaultShownDir() (string, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("catalog marker directory: %w", err)
	}
	return filepath.Join(home, "Library", "Application Support", "MobileAtWork"), nil
}
