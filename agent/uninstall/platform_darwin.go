//go:build darwin

package uninstall

import (
	"context"
	"os"
	"strconv"
	"syscall"

	"github.com/mobileatwork/mobileatwork/packaging/launchd"
)

// launchdPlatform unloads the jobs with launchctl bootout and forgets
// receipts with pkgutil, the supported way: receipts also live in the
// installer's database, not only in /var/db/receipts.
type launchdPlatform struct{}

func systemPlatform() Platform { return launchdPlatform{} }

// consoleUID is the user logged in at the console, 0 when nobody is (the
// login window runs as root).
func consoleUID() int {
	fi, err := os.Stat("/dev/console")
	if err != nil {
		return 0
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Uid)
	}
	return 0
}

func (launchdPlatform) StopJobs() []Command {
	var cs []Command
	if uid := consoleUID(); uid > 0 {
		if _, err := os.Stat(launchd.UIPlistPath); err == nil {
			cs = append(cs, Command{"/bin/launchctl", "bootout", "gui/" + strconv.Itoa(uid) + "/" + launchd.UILabel})
		}
	}
	return append(cs, Command{"/bin/launchctl", "bootout", "system/" + launchd.DaemonLabel})
}

func (launchdPlatform) Forget(id string) Command {
	return Command{"/usr/sbin/pkgutil", "--forget", id}
}

func (launchdPlatform) Reload() []Command { return nil }

func (launchdPlatform) Run(ctx context.Context, c Command) error { return run(ctx, c) }

// HandOff loads a launchd job that runs argv once at load and is not kept
// alive. Its plist is among the job files the uninstall removes; the loaded
// job itself goes with the next reboot.
func (launchdPlatform) HandOff(argv []string) (HandOff, error) {
	job := launchd.Job{
		Label:             HandOffLabel,
		ProgramArguments:  argv,
		RunAtLoad:         true,
		StandardOutPath:   launchd.LogDir + "/uninstall.log",
		StandardErrorPath: launchd.LogDir + "/uninstall.log",
	}
	b, err := launchd.Marshal(job)
	if err != nil {
		return HandOff{}, err
	}
	return HandOff{
		Files:    map[string][]byte{HandOffPlistPath: b},
		Commands: []Command{{"/bin/launchctl", "bootstrap", "system", HandOffPlistPath}},
	}, nil
}
