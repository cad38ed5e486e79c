package executor

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// A script run as the console user on macOS must reach that user's login
// session: osascript dialogs, open, the pasteboard and the user's defaults
// are services of the session's bootstrap namespace, which a child of the
// root daemon does not see even with the user's uid. `launchctl asuser UID`
// moves into the user's namespace, but it must run as root and it execs its
// command as root. So it execs this same program in dropMode, which drops
// to the user's groups, gid and uid and execs the script: no shell, no sudo,
// and the script keeps the pid, process group, pipes, working directory and
// environment the executor gave launchctl.
const (
	launchctlPath = "/bin/launchctl"
	// dropMode is argv[1] of the privilege drop. It cannot be mistaken for
	// a command or flag of the agent.
	dropMode = "__maw-exec-as-user"
)

// sessionArgv returns the command line that runs argv as u inside u's login
// session: launchctl asuser UID SELF dropMode UID GID GROUPS -- argv...
// Every value stays its own argv entry.
func sessionArgv(launchctl, self string, u *User, argv []string) []string {
	uid := strconv.FormatUint(uint64(u.UID), 10)
	groups := make([]string, len(u.Groups))
	for i, g := range u.Groups {
		groups[i] = strconv.FormatUint(uint64(g), 10)
	}
	out := []string{launchctl, "asuser", uid, self, dropMode, uid, strconv.FormatUint(uint64(u.GID), 10), strings.Join(groups, ","), "--"}
	return append(out, argv...)
}

// credentials is what dropMode switches to.
type credentials struct {
	uid, gid uint32
	groups   []uint32
}

// parseDrop reads the arguments after dropMode: UID GID GROUPS -- PATH ARGS...
func parseDrop(args []string) (credentials, []string, error) {
	if len(args) < 5 || args[3] != "--" {
		return credentials{}, nil, fmt.Errorf("usage: %s UID GID GROUP,... -- PROGRAM [ARG...]", dropMode)
	}
	id := func(what, s string) (uint32, error) {
		v, err := strconv.ParseUint(s, 10, 32)
		if err != nil {
			return 0, fmt.Errorf("%s %q is not a number", what, s)
		}
		return uint32(v), nil
	}
	var c credentials
	var err error
	if c.uid, err = id("uid", args[0]); err != nil {
		return credentials{}, nil, err
	}
	if c.gid, err = id("gid", args[1]); err != nil {
		return credentials{}, nil, err
	}
	if c.uid == 0 {
		return credentials{}, nil, fmt.Errorf("refusing to drop to uid 0")
	}
	if args[2] != "" {
		for _, g := range strings.Split(args[2], ",") {
			v, err := id("group", g)
			if err != nil {
				return credentials{}, nil, err
			}
			c.groups = append(c.groups, v)
		}
	}
	if len(c.groups) > maxGroups {
		return credentials{}, nil, fmt.Errorf("%d groups, at most %d", len(c.groups), maxGroups)
	}
	return c, args[4:], nil
}

// dropAndExec becomes the user and replaces itself with argv. It returns
// only on failure, with the exit status to use (126: could not execute).
func dropAndExec(args []string, stderr io.Writer) int {
	c, argv, err := parseDrop(args)
	if err == nil {
		err = become(c)
	}
	if err == nil {
		// Whatever launchctl left open goes no further than this process.
		err = closeOnExecAll()
	}
	if err == nil {
		err = syscall.Exec(argv[0], argv, os.Environ())
		err = fmt.Errorf("exec %s: %w", argv[0], err)
	}
	fmt.Fprintf(stderr, "error: cannot start the script in the user's session: %v\n", err)
	return 126
}

// become sets groups, then gid, then uid (after which nothing else could be
// changed), and checks that no way back to root is left.
func become(c credentials) error {
	groups := make([]int, len(c.groups))
	for i, g := range c.groups {
		groups[i] = int(g)
	}
	if err := syscall.Setgroups(groups); err != nil {
		return fmt.Errorf("setgroups: %w", err)
	}
	if err := syscall.Setgid(int(c.gid)); err != nil {
		return fmt.Errorf("setgid %d: %w", c.gid, err)
	}
	if err := syscall.Setuid(int(c.uid)); err != nil {
		return fmt.Errorf("setuid %d: %w", c.uid, err)
	}
	if syscall.Getuid() != int(c.uid) || syscall.Geteuid() != int(c.uid) || syscall.Getegid() != int(c.gid) {
		return fmt.Errorf("still uid %d/%d gid %d after the switch", syscall.Getuid(), syscall.Geteuid(), syscall.Getegid())
	}
	return nil
}

// ExecAsUserIfAsked performs the drop when the program was started in drop
// mode (launchctl execs the agent's binary that way) and never returns
// then; otherwise it does nothing. The agent's main calls it first, before
// anything else of the program runs: a library init would give the mode to
// every binary that imports this package.
func ExecAsUserIfAsked() {
	if len(os.Args) > 1 && os.Args[1] == dropMode {
		os.Exit(dropAndExec(os.Args[2:], os.Stderr))
	}
}
