//go:build darwin

package executor

import (
	"fmt"
	"os"
	"syscall"
)

// userCommand runs a console-user script inside the user's login session
// (see sessionArgv). launchctl runs as root; the drop happens in the process
// it execs, so SysProcAttr carries only the new process group.
func userCommand(argv []string, u *User) ([]string, *syscall.SysProcAttr, error) {
	if u == nil {
		return argv, sysProcAttr(nil), nil
	}
	self, err := os.Executable()
	if err != nil {
		return nil, nil, fmt.Errorf("find the agent's executable for the user's session: %w", err)
	}
	return sessionArgv(launchctlPath, self, u, argv), sysProcAttr(nil), nil
}
