//go:build unix

package inventory

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A FIFO planted as Info.plist would block a plain open until someone
// writes to it; the scan must report it and move on.
func TestCollectRefusesFIFO(t *testing.T) {
	root := t.TempDir()
	contents := filepath.Join(root, "Applications", "Pipe.app", "Contents")
	if err := os.MkdirAll(contents, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(contents, "Info.plist"), 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rep, err := Collect(ctx, Options{Root: root})
	if err != nil {
		t.Fatalf("Collect: %v", err)
	}
	if len(rep.Errors) != 1 || !strings.Contains(rep.Errors[0].Error, "not a regular file") {
		t.Errorf("errors = %+v, want the FIFO refused", rep.Errors)
	}
}
