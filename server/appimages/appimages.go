// Package appimages keeps the icons and screenshots of catalog apps under
// the data directory, DATA/apps/<app id>/<sha256>, named by their digest so
// an image is immutable once referenced by a signed check-in response.
//
// Images end up rendered by a browser on every managed Mac, so only PNG and
// JPEG are kept (decided by sniffing the bytes, never by the file name) and
// each is size-limited.
package appimages

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"

	"github.com/mobileatwork/mobileatwork/internal/atomicfile"
	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// MaxSize bounds one image.
const MaxSize = 2 << 20

// Sentinel errors, tested with errors.Is.
var (
	ErrTooLarge = errors.New("image larger than 2 MB")
	ErrType     = errors.New("image is not a PNG or JPEG")
	ErrEmpty    = errors.New("image file is empty")
	ErrNotFound = errors.New("image not found")
)

var (
	validAppID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	validSum   = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// Check returns the sniffed type of an image, or why it is refused.
func Check(b []byte) (string, error) {
	switch {
	case len(b) == 0:
		return "", ErrEmpty
	case len(b) > MaxSize:
		return "", fmt.Errorf("%w (%d bytes)", ErrTooLarge, len(b))
	}
	ct := http.DetectContentType(b)
	if ct != "image/png" && ct != "image/jpeg" {
		return "", fmt.Errorf("%w (the file looks like %s)", ErrType, ct)
	}
	return ct, nil
}

// Dir is the tree of app images.
type Dir struct{ path string }

// Open makes the directory (0700) if needed.
func Open(path string) (*Dir, error) {
	if err := os.MkdirAll(path, 0o700); err != nil {
		return nil, fmt.Errorf("open image dir: %w", err)
	}
	return &Dir{path: path}, nil
}

// Path is where image sum of app appID lives.
func (d *Dir) Path(appID, sum string) (string, error) {
	if !validAppID.MatchString(appID) || !validSum.MatchString(sum) {
		return "", fmt.Errorf("image %s/%s: %w", appID, sum, ErrNotFound)
	}
	return filepath.Join(d.path, appID, sum), nil
}

// Import checks the image file at src and keeps it for app appID, durably.
func (d *Dir) Import(appID, src, alt string) (store.Image, error) {
	f, err := os.Open(src)
	if err != nil {
		return store.Image{}, fmt.Errorf("read image: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return store.Image{}, fmt.Errorf("read image %s: %w", src, err)
	}
	return d.Put(appID, b, alt)
}

// Put checks b and keeps it for app appID.
func (d *Dir) Put(appID string, b []byte, alt string) (store.Image, error) {
	ct, err := Check(b)
	if err != nil {
		return store.Image{}, err
	}
	img := store.Image{SHA256: protocol.SHA256Hex(b), Size: int64(len(b)), ContentType: ct, Alt: alt}
	p, err := d.Path(appID, img.SHA256)
	if err != nil {
		return store.Image{}, err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return store.Image{}, fmt.Errorf("store image: %w", err)
	}
	if err := atomicfile.WriteFile(p, b, 0o600); err != nil {
		return store.Image{}, fmt.Errorf("store image: %w", err)
	}
	return img, nil
}

// Read returns the stored bytes of an image, as they are on disk: the
// device, not the server, checks them against the signed digest.
func (d *Dir) Read(appID, sum string) ([]byte, error) {
	p, err := d.Path(appID, sum)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("image %s/%s: %w", appID, sum, ErrNotFound)
	} else if err != nil {
		return nil, fmt.Errorf("read image: %w", err)
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, MaxSize+1))
}
