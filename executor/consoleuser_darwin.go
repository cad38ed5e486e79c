//go:build darwin

package executor

import (
	"fmt"
	"os"
	"os/user"
	"strconv"
	"syscall"
)

// consoleUser reads the owner of /dev/console, which macOS hands to the
// logged-in GUI user (what `stat -f %Su /dev/console` prints). At the
// login window, during Setup Assistant or with nobody logged in, the owner
// is root or a system account, which means "no console user".
func consoleUser() (User, error) {
	fi, err := os.Stat("/dev/console")
	if err != nil {
		return User{}, fmt.Errorf("console user: %w", err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return User{}, fmt.Errorf("console user: no owner for /dev/console")
	}
	if st.Uid == 0 {
		return User{}, ErrNoConsoleUser
	}
	u, err := lookupUser(user.LookupId, strconv.FormatUint(uint64(st.Uid), 10))
	if err != nil {
		return User{}, err
	}
	switch u.Name {
	case "root", "_mbsetupuser", "loginwindow":
		return User{}, ErrNoConsoleUser
	}
	return u, nil
}
