package logging

import (
	"os"
	"path/filepath"
	"testing"
)

func TestInteractive(t *testing.T) {
	file, err := os.Create(filepath.Join(t.TempDir(), "agent.err.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	for _, tt := range []struct {
		name string
		f    *os.File
		want bool
	}{
		{"launchd's log file", file, false},
		{"a pipe", w, false},
	} {
		if got := Interactive(tt.f); got != tt.want {
			t.Errorf("Interactive(%s) = %v, want %v", tt.name, got, tt.want)
		}
	}
	if tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
		defer tty.Close()
		if !Interactive(tty) {
			t.Error("Interactive(/dev/tty) = false, want true")
		}
	}
}
