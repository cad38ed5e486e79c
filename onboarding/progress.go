package onboarding

import (
	"github.com/mobileatwork/mobileatwork/protocol"
)

// settled reports whether onboarding no longer waits for an item: the
// documentation counts an app as installed once its install has started,
// and a failure must not hold the Mac in kiosk mode.
func settled(status string) bool {
	return status == protocol.ItemInstalling || status == protocol.ItemInstalled || status == protocol.ItemFailed
}

func (s stage) settled() bool {
	for _, it := range s.Items {
		if !settled(it.Status) {
			return false
		}
	}
	return true
}

// done reports whether every item of the stage is installed: a started
// install settles a stage but does not make it done, so the user is never
// told a stage is done while nothing of it is on the Mac.
func (s stage) done() bool {
	for _, it := range s.Items {
		if it.Status != protocol.ItemInstalled {
			return false
		}
	}
	return true
}

// progress is the one reading of the state that the page, the terminal
// view and the server show, and that the machine ends the onboarding on.
func (st state) progress() protocol.OnboardingProgress {
	p := protocol.OnboardingProgress{StagesTotal: len(st.Stages)}
	for _, s := range st.Stages {
		if s.done() {
			p.StagesDone++
		}
		if s.settled() {
			p.StagesSettled++
		}
		for _, it := range s.Items {
			note(&p, it, s.Name)
		}
	}
	for _, it := range st.Background {
		// Background apps are not waited for, but an install under way or
		// failed is still news to the user.
		if it.Status == protocol.ItemInstalling || it.Status == protocol.ItemFailed {
			note(&p, it, "")
		}
	}
	p.Outcome = outcome(st.State, len(p.Failed) > 0)
	return p
}

// note files one item under what the user is told about it.
func note(p *protocol.OnboardingProgress, it item, stageName string) {
	switch {
	case it.Status == protocol.ItemInstalling:
		p.NowInstalling = append(p.NowInstalling, it.Name)
	case it.Status == protocol.ItemFailed:
		p.Failed = append(p.Failed, protocol.OnboardingFailure{Name: it.Name, Stage: stageName, Message: failureText(it)})
	case it.Status != protocol.ItemPending:
	case it.installable():
		p.Queued = append(p.Queued, it.Name)
	default:
		p.WaitingFor = append(p.WaitingFor, it.Name)
	}
}

// failureText says what failed, not why: the reason (a digest, installer
// output) is for the IT team, who read it in the device's log.
func failureText(it item) string {
	if it.Kind == protocol.ItemKindProfile {
		return it.Name + " was not installed."
	}
	return it.Name + " could not be installed."
}

func outcome(state string, failed bool) string {
	if state == protocol.OnboardingDone && failed {
		return protocol.OutcomeDoneWithFailures
	}
	return state
}
