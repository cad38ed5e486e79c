package cli

import (
	"fmt"
	"os"
	"runtime/pprof"
)

// CPUProfile writes a CPU profile of the process to path (0600) from now
// until the returned stop is called; an empty path profiles nothing. It is
// for diagnosing a server under load (go tool pprof BINARY FILE).
func CPUProfile(path string) (stop func() error, err error) {
	if path == "" {
		return func() error { return nil }, nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("--cpu-profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("--cpu-profile: %w", err)
	}
	return func() error {
		pprof.StopCPUProfile()
		return f.Close()
	}, nil
}
