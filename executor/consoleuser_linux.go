//go:build linux

package executor

import (
	"os"
	"os/user"
)

// consoleUserEnv names the console user on Linux, where the product runs
// only for development and tests: asking logind for the active seat would
// pull in D-Bus for no production benefit.
const consoleUserEnv = "MAW_CONSOLE_USER"

func consoleUser() (User, error) {
	name := os.Getenv(consoleUserEnv)
	if name == "" {
		return User{}, ErrNoConsoleUser
	}
	return lookupUser(user.Lookup, name)
}
