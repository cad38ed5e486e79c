// Package service installs and controls the agent daemon with the OS service
// manager (launchd on macOS, systemd on Linux) through kardianos/service, with
// the same intent as the PKG's LaunchDaemon: started at load, restarted when it
// exits, run as root, arguments ["run"], label com.mobileatwork.agent.
//
// On macOS the plist given to launchd is the PKG's own (packaging/launchd),
// so a Mac set up with `service install` and one set up by the package run the
// same job definition.
package service

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	kservice "github.com/kardianos/service"

	"github.com/mobileatwork/mobileatwork/packaging/launchd"
)

// Sentinel errors, tested with errors.Is.
var (
	ErrUnknownAction    = errors.New("unknown service action")
	ErrNotRoot          = errors.New("controlling the agent's service needs root: run it with sudo")
	ErrAlreadyInstalled = errors.New("the agent's service is already installed")
	ErrNotInstalled     = errors.New("the agent's service is not installed")
)

// Actions are the accepted Control actions, in help order.
var Actions = []string{"install", "uninstall", "start", "stop", "restart", "status"}

// Options configure the service definition.
type Options struct {
	// Executable is the agent binary the service runs; empty means this
	// process's own executable.
	Executable string
	// StateDir and ConfigFile are passed to `run` when set, so the daemon
	// uses what the installing command was given.
	StateDir, ConfigFile string
	// LogDir receives the service's stdout and stderr; it is created on
	// install. Empty means the platform default.
	LogDir string
	// Geteuid defaults to os.Geteuid.
	Geteuid func() int
}

// Config returns the kardianos/service configuration of the agent daemon.
func Config(o Options) (*kservice.Config, error) {
	exe := o.Executable
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return nil, fmt.Errorf("find the agent binary: %w", err)
		}
	}
	if !filepath.IsAbs(exe) {
		return nil, fmt.Errorf("agent binary %q: want an absolute path", exe)
	}
	args := []string{"run"}
	if o.StateDir != "" {
		args = append(args, "--state-dir", o.StateDir)
	}
	if o.ConfigFile != "" {
		args = append(args, "--config", o.ConfigFile)
	}
	logDir := o.LogDir
	if logDir == "" {
		logDir = defaultLogDir
	}
	c := &kservice.Config{
		Name:        launchd.DaemonLabel,
		DisplayName: "Mobile@Work agent",
		Description: "Mobile@Work for macOS agent: checks in with its tenant and runs the scripts it assigns.",
		Executable:  exe,
		Arguments:   args,
		// No UserName: the daemon runs as root, it installs software.
		Option: kservice.KeyValue{
			"RunAtLoad":    true,
			"KeepAlive":    true,
			"Restart":      "always",
			"LogOutput":    true,
			"LogDirectory": logDir,
		},
	}
	if err := platformConfig(c, exe, args, logDir); err != nil {
		return nil, err
	}
	return c, nil
}

// LaunchdPlist is the LaunchDaemon plist for exe and args: the PKG's job
// (packaging/launchd.Daemon) with this binary and its logs in logDir. It is
// handed to kardianos/service as its template, which interprets "{{", so
// paths holding it are refused.
func LaunchdPlist(exe string, args []string, logDir string) ([]byte, error) {
	j := launchd.Daemon()
	j.ProgramArguments = append([]string{exe}, args...)
	j.StandardOutPath = filepath.Join(logDir, "agent.out.log")
	j.StandardErrorPath = filepath.Join(logDir, "agent.err.log")
	b, err := launchd.Marshal(j)
	if err != nil {
		return nil, err
	}
	if strings.Contains(string(b), "{{") {
		return nil, fmt.Errorf("launchd plist: a path or argument contains \"{{\"")
	}
	return b, nil
}

// Manager is the part of kardianos/service.Service that Control uses; tests
// replace it.
type Manager interface {
	Install() error
	Uninstall() error
	Start() error
	Stop() error
	Restart() error
	Status() (kservice.Status, error)
	// Platform names the service manager, for error messages.
	Platform() string
}

// program satisfies kardianos/service.Interface; the daemon itself runs in
// `mobileatwork run`, never through Service.Run, so it is never called.
type program struct{}

func (program) Start(kservice.Service) error { return nil }
func (program) Stop(kservice.Service) error  { return nil }

// New returns the agent's service on this system's service manager.
func New(c *kservice.Config) (Manager, error) {
	s, err := kservice.New(program{}, c)
	if err != nil {
		return nil, fmt.Errorf("service manager: %w", err)
	}
	return s, nil
}

// Control performs action on m and returns a one-line outcome, e.g.
// "installed" or "running". Only status works without root.
func Control(m Manager, action string, o Options) (string, error) {
	if o.Geteuid == nil {
		o.Geteuid = os.Geteuid
	}
	known := false
	for _, a := range Actions {
		known = known || a == action
	}
	if !known {
		return "", fmt.Errorf("%w %q: want one of %s", ErrUnknownAction, action, strings.Join(Actions, ", "))
	}
	if action == "status" {
		st, err := m.Status()
		switch {
		case errors.Is(err, kservice.ErrNotInstalled):
			return "not installed", nil
		case err != nil:
			return "", fmt.Errorf("service status (%s): %w", m.Platform(), err)
		}
		switch st {
		case kservice.StatusRunning:
			return "running", nil
		case kservice.StatusStopped:
			return "stopped", nil
		}
		return "unknown", nil
	}
	if o.Geteuid() != 0 {
		return "", fmt.Errorf("service %s: %w", action, ErrNotRoot)
	}
	_, serr := m.Status()
	installed := !errors.Is(serr, kservice.ErrNotInstalled)
	switch action {
	case "install":
		if installed {
			return "", fmt.Errorf("service install: %w (by the package or an earlier install); use `mobileatwork service start`, or `service uninstall` first", ErrAlreadyInstalled)
		}
		// launchd does not create the parent of StandardOutPath.
		logDir := o.LogDir
		if logDir == "" {
			logDir = defaultLogDir
		}
		if err := os.MkdirAll(logDir, 0o755); err != nil {
			return "", fmt.Errorf("service install: log directory: %w", err)
		}
		if err := m.Install(); err != nil {
			return "", fmt.Errorf("service install (%s): %w", m.Platform(), err)
		}
		return "installed; start it with `mobileatwork service start`", nil
	case "uninstall":
		if !installed {
			return "", fmt.Errorf("service uninstall: %w", ErrNotInstalled)
		}
		if err := m.Uninstall(); err != nil {
			return "", fmt.Errorf("service uninstall (%s): %w", m.Platform(), err)
		}
		return "uninstalled", nil
	}
	if !installed {
		return "", fmt.Errorf("service %s: %w: run `mobileatwork service install` first", action, ErrNotInstalled)
	}
	var err error
	switch action {
	case "start":
		err = m.Start()
	case "stop":
		err = m.Stop()
	case "restart":
		err = m.Restart()
	}
	if err != nil {
		return "", fmt.Errorf("service %s (%s): %w", action, m.Platform(), err)
	}
	return map[string]string{"start": "started", "stop": "stopped", "restart": "restarted"}[action], nil
}
