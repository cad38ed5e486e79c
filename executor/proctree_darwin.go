//go:build darwin

package executor

import (
	"bytes"
	"fmt"

	"golang.org/x/sys/unix"
)

// systemProcesses asks the kernel through sysctl.
var systemProcesses processTable = sysctlTable{}

type sysctlTable struct{}

// szomb is SZOMB from <sys/proc.h>.
const szomb = 5

func (sysctlTable) List() ([]process, error) {
	kps, err := unix.SysctlKinfoProcSlice("kern.proc.all")
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	procs := make([]process, 0, len(kps))
	for i := range kps {
		kp := &kps[i]
		st := kp.Proc.P_starttime
		procs = append(procs, process{
			PID:    int(kp.Proc.P_pid),
			PPID:   int(kp.Eproc.Ppid),
			PGID:   int(kp.Eproc.Pgid),
			Start:  uint64(st.Sec)*1_000_000 + uint64(st.Usec),
			Zombie: kp.Proc.P_stat == szomb,
		})
	}
	return procs, nil
}

// HasEnv reads the argument area of pid (kern.procargs2: argc, exec path,
// argv, then the environment, all NUL-separated). Root can read any process.
func (sysctlTable) HasEnv(pid int, kv string) bool {
	b, err := unix.SysctlRaw("kern.procargs2", pid)
	if err != nil {
		return false
	}
	return bytes.Contains(b, []byte("\x00"+kv+"\x00"))
}
