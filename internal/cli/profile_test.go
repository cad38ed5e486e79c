package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCPUProfile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cpu.pprof")
	stop, err := CPUProfile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Size() == 0 || fi.Mode().Perm() != 0o600 {
		t.Fatalf("profile %v: %v, want a non-empty 0600 file", fi, err)
	}
	if _, err := CPUProfile(filepath.Join(t.TempDir(), "missing", "cpu.pprof")); err == nil || !strings.Contains(err.Error(), "--cpu-profile") {
		t.Fatalf("profile in a missing directory: err = %v, want one naming the flag", err)
	}
	stop, err = CPUProfile("")
	if err != nil || stop() != nil {
		t.Fatalf("no profile: %v", err)
	}
}
