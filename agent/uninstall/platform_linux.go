//go:build linux

package uninstall

import (
	"context"
	"os/exec"

	"github.com/mobileatwork/mobileatwork/packaging/launchd"
)

// systemdPlatform stops and disables the unit that `mobileatwork service
// install` wrote; receipts, if any, are plain files.
type systemdPlatform struct{ systemctl string }

func systemPlatform() Platform {
	p, err := exec.LookPath("systemctl")
	if err != nil {
		return Offline{}
	}
	return systemdPlatform{systemctl: p}
}

const unitName = launchd.DaemonLabel + ".service"

func (s systemdPlatform) StopJobs() []Command {
	return []Command{{s.systemctl, "disable", "--now", unitName}}
}

func (systemdPlatform) Forget(string) Command { return nil }

func (s systemdPlatform) Reload() []Command {
	return []Command{{s.systemctl, "daemon-reload"}}
}

func (systemdPlatform) Run(ctx context.Context, c Command) error { return run(ctx, c) }

// HandOff starts argv as a transient systemd unit: its own cgroup, so
// stopping the agent's unit does not take it down, and collected on exit.
func (s systemdPlatform) HandOff(argv []string) (HandOff, error) {
	run, err := exec.LookPath("systemd-run")
	if err != nil {
		return HandOff{}, ErrNoServiceManager
	}
	c := Command{run, "--unit=" + HandOffLabel, "--collect", "--quiet", "--"}
	return HandOff{Commands: []Command{append(c, argv...)}}, nil
}
