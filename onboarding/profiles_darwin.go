//go:build darwin

package onboarding

import (
	"context"
	"fmt"
	"os/exec"
)

// SystemProfiles asks macOS which configuration profiles are installed.
type SystemProfiles struct {
	// Run runs the command; nil runs it. Tests replace it.
	Run func(ctx context.Context, name string, args ...string) ([]byte, error)
}

// InstalledProfiles runs `/usr/bin/profiles list -output stdout-xml` (as
// root it lists device and user profiles) and parses its plist.
func (s SystemProfiles) InstalledProfiles(ctx context.Context) (map[string]bool, error) {
	run := s.Run
	if run == nil {
		run = func(ctx context.Context, name string, args ...string) ([]byte, error) {
			return exec.CommandContext(ctx, name, args...).Output()
		}
	}
	out, err := run(ctx, "/usr/bin/profiles", "list", "-output", "stdout-xml")
	if err != nil {
		return nil, fmt.Errorf("profiles list: %w", err)
	}
	return ParseProfilesList(out)
}

// DefaultProfiles is the macOS profiles database; root is ignored.
func DefaultProfiles(root string) ProfileObserver { return SystemProfiles{} }
