package executor

import (
	"errors"
	"fmt"
	"os/user"
	"strconv"
)

// ErrNoConsoleUser means nobody is logged in at the console, so a script
// that must run as the console user cannot run now.
var ErrNoConsoleUser = errors.New("no user logged in")

// ConsoleUserFunc finds the console user; the agent holds one so tests can
// replace ConsoleUser.
type ConsoleUserFunc func() (User, error)

// ConsoleUser returns the user logged in at the console. Platform files
// decide who that is; lookupUser turns the answer into a User.
func ConsoleUser() (User, error) { return consoleUser() }

// maxGroups caps supplementary groups: setgroups(2) on darwin refuses more
// than NGROUPS_MAX (16), and a directory-bound Mac user is often in more.
const maxGroups = 16

// lookupUser resolves an account by name or by numeric id.
func lookupUser(lookup func(string) (*user.User, error), key string) (User, error) {
	u, err := lookup(key)
	if err != nil {
		return User{}, fmt.Errorf("look up console user %s: %w", key, err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return User{}, fmt.Errorf("console user %s: uid %q: %w", u.Username, u.Uid, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return User{}, fmt.Errorf("console user %s: gid %q: %w", u.Username, u.Gid, err)
	}
	out := User{UID: uint32(uid), GID: uint32(gid), Name: u.Username, Home: u.HomeDir}
	ids, err := u.GroupIds()
	if err != nil {
		// The primary group alone is a safe, smaller set.
		ids = nil
	}
	for _, id := range ids {
		g, err := strconv.ParseUint(id, 10, 32)
		if err != nil || len(out.Groups) == maxGroups {
			continue
		}
		out.Groups = append(out.Groups, uint32(g))
	}
	if len(out.Groups) == 0 {
		out.Groups = []uint32{out.GID}
	}
	return out, nil
}
