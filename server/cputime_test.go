package server

import (
	"syscall"
	"testing"
	"time"
)

// processCPU is the CPU time the test process used so far, its goroutines
// (the store's writer among them) included: on a shared machine it moves
// far less with other load than a benchmark's wall time does.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
