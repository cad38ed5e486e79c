package blobs

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestPutGet(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "blobs")
	d, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
		t.Fatalf("blob dir mode %v", fi.Mode().Perm())
	}
	if err := d.Put("s1", []byte("sealed")); err != nil {
		t.Fatal(err)
	}
	got, err := d.Get("s1", 100)
	if err != nil || string(got) != "sealed" {
		t.Fatalf("Get = %q, %v", got, err)
	}
	if _, err := d.Get("s1", 3); err == nil {
		t.Fatal("oversized blob accepted")
	}
	for _, id := range []string{"missing", "../etc/passwd", "", "a/b"} {
		if _, err := d.Get(id, 100); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get(%q) = %v, want ErrNotFound", id, err)
		}
	}
	if err := d.Put("../x", nil); err == nil {
		t.Fatal("path traversal accepted by Put")
	}
	if err := d.Delete("s1"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Get("s1", 100); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Delete = %v, want ErrNotFound", err)
	}
	if err := d.Delete("s1"); err != nil {
		t.Fatalf("Delete of a missing blob = %v, want nil", err)
	}
	if err := d.Delete("../x"); err == nil {
		t.Fatal("path traversal accepted by Delete")
	}
}
