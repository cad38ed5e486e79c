// Package launchd describes the agent's launchd jobs as data and renders them
// as XML property lists, so the installed plists are reviewed in golden files
// instead of being assembled from strings.
package launchd

import (
	"fmt"

	"github.com/micromdm/plist"
)

// Installed locations, shared with the install scripts and the uninstaller.
const (
	// DaemonLabel is the system daemon that enrolls, checks in and runs scripts.
	DaemonLabel = "com.mobileatwork.agent"
	// UILabel is the per-user agent of the login session: the onboarding kiosk,
	// then Apps@Work once after registration.
	UILabel = "com.mobileatwork.agent.ui"

	BinaryPath      = "/Library/MobileAtWork/bin/mobileatwork"
	DaemonPlistPath = "/Library/LaunchDaemons/" + DaemonLabel + ".plist"
	UIPlistPath     = "/Library/LaunchAgents/" + UILabel + ".plist"
	LogDir          = "/Library/Logs/MobileAtWork"
	StateDir        = "/Library/Application Support/MobileAtWork"
	// EnrollFilePath is where an enrolling package puts its enrollment
	// file (root:wheel 0600), removed once the agent enrolled with it.
	EnrollFilePath = "/Library/MobileAtWork/enroll.json"
)

// Job is the subset of launchd.plist(5) keys the agent uses. KeepAlive holds
// either a bool or a map of conditions such as {"SuccessfulExit": false}.
type Job struct {
	Label                  string   `plist:"Label"`
	ProgramArguments       []string `plist:"ProgramArguments"`
	RunAtLoad              bool     `plist:"RunAtLoad"`
	KeepAlive              any      `plist:"KeepAlive,omitempty"`
	ThrottleInterval       int      `plist:"ThrottleInterval,omitempty"`
	ProcessType            string   `plist:"ProcessType,omitempty"`
	LimitLoadToSessionType string   `plist:"LimitLoadToSessionType,omitempty"`
	StandardOutPath        string   `plist:"StandardOutPath,omitempty"`
	StandardErrorPath      string   `plist:"StandardErrorPath,omitempty"`
	// AbandonProcessGroup keeps launchd from killing what the job's
	// process started when it exits.
	AbandonProcessGroup bool `plist:"AbandonProcessGroup,omitempty"`
}

// Daemon is the root daemon: launchd restarts it whenever it exits, at most
// every ThrottleInterval seconds, so a crash loop cannot spin the CPU. It runs
// as root (no UserName) because it installs software and reads receipts.
func Daemon() Job {
	return Job{
		Label:             DaemonLabel,
		ProgramArguments:  []string{BinaryPath, "run"},
		RunAtLoad:         true,
		KeepAlive:         true,
		ThrottleInterval:  10,
		ProcessType:       "Standard",
		StandardOutPath:   LogDir + "/agent.out.log",
		StandardErrorPath: LogDir + "/agent.err.log",
	}
}

// UIAgent runs in each GUI (Aqua) login session only; it is restarted after a
// crash but not after a clean exit, so the user can dismiss onboarding.
func UIAgent() Job {
	return Job{
		Label:                  UILabel,
		ProgramArguments:       []string{BinaryPath, "ui", "--session"},
		RunAtLoad:              true,
		KeepAlive:              map[string]bool{"SuccessfulExit": false},
		LimitLoadToSessionType: "Aqua",
		ProcessType:            "Interactive",
	}
}

// Marshal renders j as an XML property list with tab indentation, the form
// plutil -convert xml1 writes.
func Marshal(j Job) ([]byte, error) {
	if j.Label == "" || len(j.ProgramArguments) == 0 {
		return nil, fmt.Errorf("launchd: job needs a Label and ProgramArguments")
	}
	b, err := plist.MarshalIndent(j, "\t")
	if err != nil {
		return nil, fmt.Errorf("launchd: encode %s: %w", j.Label, err)
	}
	if len(b) > 0 && b[len(b)-1] != '\n' {
		b = append(b, '\n')
	}
	return b, nil
}
