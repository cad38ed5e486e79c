//go:build darwin

package desktop

import (
	"context"
	"fmt"
	"os/exec"
	"strconv"

	"github.com/mobileatwork/mobileatwork/packaging/launchd"
)

// StartUIAgent asks launchd to start the UI LaunchAgent in the GUI session
// of uid, so the kiosk appears now rather than at the next login. It
// starts the job launchd already knows for that session (kickstart
// without -k leaves a running one alone): the window comes from the
// user's session, never from this root process.
func StartUIAgent(ctx context.Context, uid int) error { return kickstart(ctx, uid) }

// RestartUIAgent is StartUIAgent for an offer that must replace what the
// UI agent shows (kickstart -k): an onboarding that begins while the user
// has Apps@Work open gets its kiosk now.
func RestartUIAgent(ctx context.Context, uid int) error { return kickstart(ctx, uid, "-k") }

func kickstart(ctx context.Context, uid int, flags ...string) error {
	target := "gui/" + strconv.Itoa(uid) + "/" + launchd.UILabel
	args := append(append([]string{"kickstart"}, flags...), target)
	if out, err := exec.CommandContext(ctx, "/bin/launchctl", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("launchctl kickstart %s: %w: %s", target, err, out)
	}
	return nil
}
