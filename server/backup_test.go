package server

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mobileatwork/mobileatwork/server/store"
)

func TestLostDatabaseIsRefusedAndRestored(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	s, err := Init(data, "Test", nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if err := s.Store.CreateDevice(ctx, store.Device{ID: "dev_1", EnrolledAt: t0}); err != nil {
		t.Fatal(err)
	}
	sc := addScript(t, s, "hello", "echo hi\n")
	backup := filepath.Join(t.TempDir(), "backup")
	if err := s.Backup(ctx, backup); err != nil {
		t.Fatal(err)
	}
	if err := s.Backup(ctx, backup); !errors.Is(err, ErrInvalid) {
		t.Fatalf("backup over an existing directory = %v, want ErrInvalid", err)
	}
	if fi, err := os.Stat(filepath.Join(backup, dbFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("backup database: %v %v; want mode 0600", err, fi)
	}
	s.Close()

	for _, lose := range []struct {
		name string
		do   func(path string) error
	}{
		{"deleted", os.Remove},
		{"emptied", func(p string) error { return os.Truncate(p, 0) }},
	} {
		t.Run(lose.name, func(t *testing.T) {
			db := filepath.Join(data, dbFile)
			if err := lose.do(db); err != nil {
				t.Fatal(err)
			}
			if _, err := Open(data); !errors.Is(err, ErrDatabaseLost) || !strings.Contains(err.Error(), "restore") {
				t.Fatalf("Open without its database = %v; want ErrDatabaseLost saying how to restore", err)
			}
			if fi, err := os.Stat(db); err == nil && fi.Size() > 0 {
				t.Fatal("the refused Open created a database")
			}
			if err := Restore(data, backup); err != nil {
				t.Fatal(err)
			}
			s, err := Open(data)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if _, err := s.Store.Device(ctx, "dev_1"); err != nil {
				t.Fatalf("device lost in the restore: %v", err)
			}
			if _, err := s.Files.Get(sc.BlobSHA256, 1<<20); err != nil {
				t.Fatalf("script blob after restore: %v", err)
			}
			s.Close()
		})
	}
	// A live database is never replaced; another tenant's backup is refused.
	if err := Restore(data, backup); !errors.Is(err, ErrInvalid) {
		t.Fatalf("restore over a live database = %v, want ErrInvalid", err)
	}
	other, err := Init(filepath.Join(t.TempDir(), "other"), "Other", nil)
	if err != nil {
		t.Fatal(err)
	}
	otherBackup := filepath.Join(t.TempDir(), "other-backup")
	if err := other.Backup(ctx, otherBackup); err != nil {
		t.Fatal(err)
	}
	other.Close()
	os.Remove(filepath.Join(data, dbFile))
	if err := Restore(data, otherBackup); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "another tenant") {
		t.Fatalf("restore of another tenant's backup = %v", err)
	}
	if err := Restore(data, t.TempDir()); !errors.Is(err, ErrInvalid) {
		t.Fatalf("restore from a directory that is no backup = %v", err)
	}
}
