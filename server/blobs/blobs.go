// Package blobs keeps sealed script blobs as files under the data directory
// (DATA/blobs/<script id>.blob). The files are ciphertext: the keys live in
// the store, so a copy of the directory alone reveals no script.
package blobs

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"

	"github.com/mobileatwork/mobileatwork/internal/atomicfile"
)

// ErrNotFound is returned for a blob that does not exist.
var ErrNotFound = errors.New("blob not found")

var validID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// Dir is a directory of blobs.
type Dir struct{ path string }

// Open makes the directory (0700) if needed.
func Open(path string) (*Dir, error) {
	if err := os.MkdirAll(path, 0o700); err != nil {
		return nil, fmt.Errorf("open blob dir: %w", err)
	}
	return &Dir{path: path}, nil
}

func (d *Dir) name(id string) (string, error) {
	if !validID.MatchString(id) {
		return "", fmt.Errorf("blob id %q: %w", id, ErrNotFound)
	}
	return filepath.Join(d.path, id+".blob"), nil
}

// Put writes a blob durably.
func (d *Dir) Put(id string, data []byte) error {
	name, err := d.name(id)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(name, data, 0o600)
}

// Get reads a blob, at most limit bytes.
func (d *Dir) Get(id string, limit int64) ([]byte, error) {
	name, err := d.name(id)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(name)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("blob %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read blob %s: %w", id, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read blob %s: %w", id, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("blob %s is larger than %d bytes", id, limit)
	}
	return b, nil
}

// Delete removes a blob; a missing blob is not an error.
func (d *Dir) Delete(id string) error {
	name, err := d.name(id)
	if err != nil {
		return err
	}
	if err := os.Remove(name); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("delete blob %s: %w", id, err)
	}
	return nil
}
