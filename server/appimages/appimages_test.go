package appimages

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/mobileatwork/mobileatwork/protocol"
)

var (
	png  = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01")
	jpeg = []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01")
)

func TestCheck(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
		ct   string
		want error
	}{
		{"png", png, "image/png", nil},
		{"jpeg", jpeg, "image/jpeg", nil},
		{"svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"></svg>`), "", ErrType},
		{"html named .png", []byte("<html><script>alert(1)</script>"), "", ErrType},
		{"gif", []byte("GIF89a\x01\x00"), "", ErrType},
		{"empty", nil, "", ErrEmpty},
		{"too large png", append(bytes.Clone(png), make([]byte, MaxSize)...), "", ErrTooLarge},
		{"exactly the limit", append(bytes.Clone(png), make([]byte, MaxSize-len(png))...), "image/png", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ct, err := Check(tt.b)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) || ct != tt.ct {
				t.Fatalf("Check = %q, %v; want %q, %v", ct, err, tt.ct, tt.want)
			}
		})
	}
}

func TestImportRead(t *testing.T) {
	d, err := Open(filepath.Join(t.TempDir(), "apps"))
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(t.TempDir(), "icon.png")
	os.WriteFile(src, png, 0o644)
	img, err := d.Import("app_1", src, "Tools icon")
	if err != nil {
		t.Fatal(err)
	}
	if img.SHA256 != protocol.SHA256Hex(png) || img.Size != int64(len(png)) || img.ContentType != "image/png" || img.Alt != "Tools icon" {
		t.Fatalf("Import = %+v", img)
	}
	got, err := d.Read("app_1", img.SHA256)
	if err != nil || !bytes.Equal(got, png) {
		t.Fatalf("Read = %q, %v", got, err)
	}
	p, _ := d.Path("app_1", img.SHA256)
	if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("stored file: %v %v", fi, err)
	}
	for _, c := range [][2]string{{"../x", img.SHA256}, {"app_1", "../../etc/passwd"}, {"app_1", protocol.SHA256Hex(jpeg)}} {
		if _, err := d.Read(c[0], c[1]); !errors.Is(err, ErrNotFound) {
			t.Errorf("Read(%q, %q) = %v, want ErrNotFound", c[0], c[1], err)
		}
	}
	bad := filepath.Join(t.TempDir(), "shot.png")
	os.WriteFile(bad, []byte("<svg/>"), 0o644)
	if _, err := d.Import("app_1", bad, "x"); !errors.Is(err, ErrType) {
		t.Fatalf("Import of an SVG named .png = %v, want ErrType", err)
	}
}
