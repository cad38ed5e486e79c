package executor

import (
	"os"
	"strconv"
	"syscall"
)

// fdDir lists the calling process's open descriptors: devfs on macOS, a
// link to /proc/self/fd on Linux.
const fdDir = "/dev/fd"

// closeOnExecAll marks every descriptor above 2 close-on-exec, so a script
// inherits only its stdin, stdout and stderr. os/exec passes nothing else on
// purpose, but a descriptor opened without O_CLOEXEC reaches every child:
// one the daemon inherited from whoever started it, or one a library opened
// carelessly (a console-user script once read the device key through one).
// Called under startMu just before each start; what the Go runtime and the
// standard library open is close-on-exec already, so this changes nothing
// for the daemon itself.
func closeOnExecAll() error {
	f, err := os.Open(fdDir)
	if err != nil {
		return err
	}
	names, err := f.Readdirnames(-1)
	f.Close()
	if err != nil {
		return err
	}
	for _, n := range names {
		fd, err := strconv.Atoi(n)
		if err != nil || fd <= 2 {
			continue
		}
		syscall.CloseOnExec(fd) // EBADF for the listing's own, now closed
	}
	return nil
}
