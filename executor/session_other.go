//go:build !darwin

package executor

import "syscall"

// userCommand drops to u directly: outside macOS there is no per-user
// bootstrap namespace to join.
func userCommand(argv []string, u *User) ([]string, *syscall.SysProcAttr, error) {
	return argv, sysProcAttr(u), nil
}
