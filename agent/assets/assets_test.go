package assets

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/mobileatwork/mobileatwork/protocol"
)

// pngHeader is enough for content sniffing to say image/png.
var pngHeader = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")

func ref(b []byte) protocol.Asset {
	s := sha256.Sum256(b)
	return protocol.Asset{URL: "/v1/apps/app_1/icon", SHA256: hex.EncodeToString(s[:]), Size: int64(len(b)), ContentType: "image/png"}
}

func TestCheckRef(t *testing.T) {
	good := ref(pngHeader)
	tests := []struct {
		name string
		mod  func(*protocol.Asset)
		want error
	}{
		{"ok", func(*protocol.Asset) {}, nil},
		{"absolute URL", func(a *protocol.Asset) { a.URL = "https://evil.example/x" }, ErrURL},
		{"protocol-relative URL", func(a *protocol.Asset) { a.URL = "//evil.example/x" }, ErrURL},
		{"relative path", func(a *protocol.Asset) { a.URL = "x" }, ErrURL},
		{"bad digest", func(a *protocol.Asset) { a.SHA256 = "abc" }, ErrDigest},
		{"too large", func(a *protocol.Asset) { a.Size = MaxImage + 1 }, ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := good
			tt.mod(&a)
			if err := CheckRef(a, MaxImage); !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("CheckRef = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestVerify(t *testing.T) {
	jpeg := []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00")
	svg := []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`)
	gif := []byte("GIF89a\x01\x00\x01\x00")
	flipped := bytes.Clone(pngHeader)
	flipped[len(flipped)-1] ^= 1
	tests := []struct {
		name  string
		a     protocol.Asset
		body  []byte
		image bool
		want  error
	}{
		{"png", ref(pngHeader), pngHeader, true, nil},
		{"jpeg", ref(jpeg), jpeg, true, nil},
		{"svg refused", ref(svg), svg, true, ErrType},
		{"gif refused", ref(gif), gif, true, ErrType},
		{"svg as a file is fine", ref(svg), svg, false, nil},
		{"flipped byte", ref(pngHeader), flipped, true, ErrDigest},
		{"truncated", ref(pngHeader), pngHeader[:5], true, ErrSize},
		{"longer", ref(pngHeader), append(bytes.Clone(pngHeader), 0), true, ErrSize},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(tt.a, tt.body, tt.image)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestCache(t *testing.T) {
	c := Cache{Dir: filepath.Join(t.TempDir(), "cache")}
	a := ref(pngHeader)
	if c.Get(a) != nil {
		t.Fatal("empty cache returned bytes")
	}
	if err := c.Put(a, pngHeader); err != nil {
		t.Fatal(err)
	}
	if got := c.Get(a); !bytes.Equal(got, pngHeader) {
		t.Fatalf("Get = %q", got)
	}
	if err := c.Put(ref(pngHeader), []byte("something else")); !errors.Is(err, ErrSize) {
		t.Fatalf("Put of wrong bytes = %v", err)
	}
	// A file changed on disk is not served.
	os.WriteFile(filepath.Join(c.Dir, a.SHA256), append(bytes.Clone(pngHeader[:len(pngHeader)-1]), 'x'), 0o600)
	if c.Get(a) != nil {
		t.Fatal("Get served a tampered cache file")
	}
}
