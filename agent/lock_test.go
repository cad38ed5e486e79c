//go:build unix

package agent

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestAcquire(t *testing.T) {
	tests := []struct {
		name    string
		holdFor time.Duration // how long another holder keeps the lock; <0: for good
		wantErr error
	}{
		{"free", 0, nil},
		{"held for a moment", lockGrace / 4, nil},
		{"held", -1, ErrBusy},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			a := &Agent{o: Options{StateDir: dir}}
			if tc.holdFor != 0 {
				other, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_RDWR|os.O_CREATE, 0o600)
				if err != nil {
					t.Fatal(err)
				}
				if err := unix.Flock(int(other.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
					t.Fatal(err)
				}
				if tc.holdFor > 0 {
					timer := time.AfterFunc(tc.holdFor, func() { other.Close() })
					t.Cleanup(func() { timer.Stop() })
				} else {
					t.Cleanup(func() { other.Close() })
				}
			}
			release, err := a.acquire()
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("acquire = %v, want %v", err, tc.wantErr)
			}
			if err == nil {
				release()
			}
		})
	}
}
