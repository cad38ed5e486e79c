//go:build !linux && !darwin

package executor

import "errors"

var systemProcesses processTable = noTable{}

// noTable leaves only the process group reachable on other systems.
type noTable struct{}

func (noTable) List() ([]process, error) {
	return nil, errors.New("list processes: not supported on this system")
}

func (noTable) HasEnv(int, string) bool { return false }
