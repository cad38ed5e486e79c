package protocol

import (
	"errors"
	"fmt"
)

// ErrUnknownRunAs refuses an assignment whose run_as is neither RunAsRoot
// nor RunAsConsoleUser. An agent must not guess: running an unknown value as
// root would give the script more than it was meant to have.
var ErrUnknownRunAs = errors.New("unknown run_as")

// CheckRunAs accepts the run-as values both sides know, and nothing else.
func CheckRunAs(runAs string) error {
	switch runAs {
	case RunAsRoot, RunAsConsoleUser:
		return nil
	}
	return fmt.Errorf("%w %q: want %s or %s", ErrUnknownRunAs, runAs, RunAsRoot, RunAsConsoleUser)
}
