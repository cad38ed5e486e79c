// Package assets verifies the files a device fetches from its tenant (app
// icons, screenshots, in-house PKGs) against the digest and size the signed
// check-in response gave for them, and keeps verified images in a small
// cache so a page reload does not download them again.
package assets

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/mobileatwork/mobileatwork/internal/atomicfile"
	"github.com/mobileatwork/mobileatwork/protocol"
)

// Sentinel errors, tested with errors.Is.
var (
	ErrURL      = errors.New("asset URL is not a path on the tenant server")
	ErrTooLarge = errors.New("asset larger than allowed")
	ErrSize     = errors.New("asset size does not match the signed size")
	ErrDigest   = errors.New("asset SHA-256 does not match the signed digest")
	ErrType     = errors.New("image is not a PNG or JPEG")
)

// MaxImage bounds an icon or screenshot; the server refuses larger ones.
const MaxImage = 2 << 20

// ImageTypes are the only image types a page is given: formats whose
// decoders are mature, no SVG (scriptable) and nothing exotic.
var ImageTypes = map[string]bool{"image/png": true, "image/jpeg": true}

var sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)

// CheckRef refuses an asset that cannot be fetched safely: an absolute or
// protocol-relative URL (the device would send its certificate elsewhere),
// a bad digest, or a size above limit.
func CheckRef(a protocol.Asset, limit int64) error {
	if !strings.HasPrefix(a.URL, "/") || strings.HasPrefix(a.URL, "//") || strings.ContainsAny(a.URL, "\\\r\n") {
		return fmt.Errorf("%w: %q", ErrURL, a.URL)
	}
	if !sha256Hex.MatchString(a.SHA256) {
		return fmt.Errorf("asset %s: %w: %q is not a hex SHA-256", a.URL, ErrDigest, a.SHA256)
	}
	if a.Size < 0 || a.Size > limit {
		return fmt.Errorf("asset %s: %w: %d bytes, limit %d", a.URL, ErrTooLarge, a.Size, limit)
	}
	return nil
}

// Verifier hashes a download as it streams and checks it at the end.
type Verifier struct {
	a protocol.Asset
	h hash.Hash
	n int64
}

// NewVerifier starts checking a download of a.
func NewVerifier(a protocol.Asset) *Verifier { return &Verifier{a: a, h: sha256.New()} }

// Write hashes p; it fails as soon as the download outgrows the signed size.
func (v *Verifier) Write(p []byte) (int, error) {
	v.n += int64(len(p))
	if v.n > v.a.Size {
		return 0, fmt.Errorf("asset %s: %w: more than %d bytes", v.a.URL, ErrSize, v.a.Size)
	}
	return v.h.Write(p)
}

// Check compares size and digest with the signed ones.
func (v *Verifier) Check() error {
	if v.n != v.a.Size {
		return fmt.Errorf("asset %s: %w: got %d bytes, want %d", v.a.URL, ErrSize, v.n, v.a.Size)
	}
	if got := hex.EncodeToString(v.h.Sum(nil)); got != v.a.SHA256 {
		return fmt.Errorf("asset %s: %w: got %s, want %s", v.a.URL, ErrDigest, got, v.a.SHA256)
	}
	return nil
}

// Verify checks b against a: size, digest and, for an image, its type.
func Verify(a protocol.Asset, b []byte, image bool) error {
	v := NewVerifier(a)
	if _, err := v.Write(b); err != nil {
		return err
	}
	if err := v.Check(); err != nil {
		return err
	}
	if image {
		if _, err := ImageType(b); err != nil {
			return fmt.Errorf("asset %s: %w", a.URL, err)
		}
	}
	return nil
}

// ImageType sniffs b and returns its type if it is an accepted image. The
// bytes decide, never a name or a declared type.
func ImageType(b []byte) (string, error) {
	ct := http.DetectContentType(b)
	if !ImageTypes[ct] {
		return "", fmt.Errorf("%w (sniffed %s)", ErrType, ct)
	}
	return ct, nil
}

// Cache keeps verified images in a directory, named by their digest. A
// cached file is verified again when read: the directory is the agent's,
// but a byte flipped on disk must not reach a page either.
type Cache struct {
	Dir string
}

// Get returns the verified bytes of image a from the cache, or nil if absent
// or no longer valid.
func (c Cache) Get(a protocol.Asset) []byte {
	if !sha256Hex.MatchString(a.SHA256) {
		return nil
	}
	b, err := os.ReadFile(filepath.Join(c.Dir, a.SHA256))
	if err != nil || Verify(a, b, true) != nil {
		return nil
	}
	return b
}

// Put stores verified bytes of a.
func (c Cache) Put(a protocol.Asset, b []byte) error {
	if err := Verify(a, b, true); err != nil {
		return err
	}
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return fmt.Errorf("asset cache: %w", err)
	}
	return atomicfile.WriteFile(filepath.Join(c.Dir, a.SHA256), bytes.Clone(b), 0o600)
}
