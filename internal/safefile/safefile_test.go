package safefile

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("content"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(file, link); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	refused := errors.New("refused by the check")
	tests := []struct {
		name  string
		path  string
		check func(fs.FileInfo) error
		want  error // nil: opened
	}{
		{"a regular file", file, nil, nil},
		{"a regular file the check accepts", file, func(fi fs.FileInfo) error { return nil }, nil},
		{"a regular file the check refuses", file, func(fs.FileInfo) error { return refused }, refused},
		{"a symbolic link to it", link, nil, ErrLink},
		{"a directory", dir, nil, ErrNotRegular},
		{"a FIFO, without blocking", fifo, nil, ErrNotRegular},
		{"missing", filepath.Join(dir, "none"), nil, fs.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			done := make(chan struct{})
			var f *os.File
			var err error
			go func() { defer close(done); f, _, err = Open(tt.path, tt.check) }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("Open blocked")
			}
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Open = %v, want the file", err)
				}
				f.Close()
				return
			}
			if !errors.Is(err, tt.want) || f != nil {
				t.Fatalf("Open = %v, %v; want %v", f, err, tt.want)
			}
		})
	}
	t.Run("the check sees the opened file", func(t *testing.T) {
		var seen fs.FileInfo
		f, fi, err := Open(file, func(fi fs.FileInfo) error { seen = fi; return nil })
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		want, _ := os.Stat(file)
		if !os.SameFile(seen, want) || !os.SameFile(fi, want) {
			t.Fatal("the check was given another file's information")
		}
	})
}

func TestReadAll(t *testing.T) {
	for _, tt := range []struct {
		in    string
		limit int64
		ok    bool
	}{
		{"", 4, true},
		{"abcd", 4, true},
		{"abcde", 4, false},
	} {
		b, err := ReadAll(strings.NewReader(tt.in), tt.limit)
		if tt.ok != (err == nil) || (tt.ok && !bytes.Equal(b, []byte(tt.in))) {
			t.Errorf("ReadAll(%q, %d) = %q, %v", tt.in, tt.limit, b, err)
		}
		if !tt.ok && !errors.Is(err, ErrTooLarge) {
			t.Errorf("ReadAll(%q, %d) = %v, want ErrTooLarge", tt.in, tt.limit, err)
		}
	}
}
