package pkgfiles

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestImport(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "apps")
	d, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
		t.Fatalf("package dir mode %v, want 0700", fi.Mode().Perm())
	}
	body := append([]byte("xar!"), make([]byte, 1<<20)...)
	src := filepath.Join(t.TempDir(), "Tools.pkg")
	if err := os.WriteFile(src, body, 0o644); err != nil {
		t.Fatal(err)
	}
	sum, size, err := d.Import("app_1", src)
	if err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256(body)
	if sum != hex.EncodeToString(want[:]) || size != int64(len(body)) {
		t.Fatalf("Import = %s, %d; want %x, %d", sum, size, want, len(body))
	}
	p, _ := d.Path("app_1")
	got, err := os.ReadFile(p)
	if err != nil || string(got) != string(body) {
		t.Fatalf("stored file differs: %v", err)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 {
		t.Fatalf("stored file mode %v, want 0600", fi.Mode().Perm())
	}
	if err := d.Remove("app_1"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("file still there after Remove: %v", err)
	}
}

func TestImportRefusals(t *testing.T) {
	d, err := Open(filepath.Join(t.TempDir(), "apps"))
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	notPKG := filepath.Join(tmp, "image.dmg")
	os.WriteFile(notPKG, []byte("koly and more bytes"), 0o644)
	short := filepath.Join(tmp, "short.pkg")
	os.WriteFile(short, []byte("xa"), 0o644)
	bundle := filepath.Join(tmp, "Bundle.pkg")
	os.Mkdir(bundle, 0o755)
	good := filepath.Join(tmp, "good.pkg")
	os.WriteFile(good, []byte("xar!"), 0o644)
	tests := []struct {
		name, id, src string
		is            error
	}{
		{"disk image", "app_1", notPKG, ErrNotPKG},
		{"shorter than the magic", "app_1", short, ErrNotPKG},
		{"bundle package directory", "app_1", bundle, ErrNotPKG},
		{"missing file", "app_1", filepath.Join(tmp, "nope.pkg"), os.ErrNotExist},
		{"path in id", "../x", good, ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := d.Import(tt.id, tt.src); !errors.Is(err, tt.is) {
				t.Fatalf("Import = %v, want %v", err, tt.is)
			}
			left, _ := os.ReadDir(d.path)
			if len(left) != 0 {
				t.Fatalf("files left behind: %v", left)
			}
		})
	}
}
