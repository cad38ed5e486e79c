//go:build !darwin

package desktop

import "context"

// StartUIAgent does nothing where there is no UI LaunchAgent: the user
// opens the page with `mobileatwork onboarding ui`.
func StartUIAgent(context.Context, int) error { return nil }

// RestartUIAgent does nothing where there is no UI LaunchAgent.
func RestartUIAgent(context.Context, int) error { return nil }
