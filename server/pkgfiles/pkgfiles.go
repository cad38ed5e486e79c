// Package pkgfiles keeps the PKG files of the app catalog under the data
// directory (DATA/apps/<app id>.pkg). PKGs run to gigabytes, so a file is
// streamed in, hashed on the way, and never held in memory.
package pkgfiles

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"

	"github.com/mobileatwork/mobileatwork/internal/atomicfile"
)

// Sentinel errors, tested with errors.Is.
var (
	ErrNotFound = errors.New("package file not found")
	ErrNotPKG   = errors.New("not a flat PKG (xar archive)")
)

// xarMagic opens every flat package: productbuild and pkgbuild write xar
// archives. A bundle package (a directory) or a disk image is refused.
var xarMagic = []byte("xar!")

var validID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// Dir is a directory of catalog PKGs.
type Dir struct{ path string }

// Open makes the directory (0700) if needed.
func Open(path string) (*Dir, error) {
	if err := os.MkdirAll(path, 0o700); err != nil {
		return nil, fmt.Errorf("open package dir: %w", err)
	}
	return &Dir{path: path}, nil
}

// Path is where the PKG of app id lives.
func (d *Dir) Path(id string) (string, error) {
	if !validID.MatchString(id) {
		return "", fmt.Errorf("package id %q: %w", id, ErrNotFound)
	}
	return filepath.Join(d.path, id+".pkg"), nil
}

// Import copies the flat PKG at src as the file of app id, durably (temp
// file, fsync, rename, fsync of the directory), and returns its SHA-256 (hex)
// and size. Nothing is left behind on error.
func (d *Dir) Import(id, src string) (sum string, size int64, err error) {
	dst, err := d.Path(id)
	if err != nil {
		return "", 0, err
	}
	in, err := os.Open(src)
	if err != nil {
		return "", 0, fmt.Errorf("read package: %w", err)
	}
	defer in.Close()
	if fi, err := in.Stat(); err != nil {
		return "", 0, fmt.Errorf("read package: %w", err)
	} else if !fi.Mode().IsRegular() {
		return "", 0, fmt.Errorf("read package %s: %w", src, ErrNotPKG)
	}
	head := make([]byte, len(xarMagic))
	if _, err := io.ReadFull(in, head); err != nil || !bytes.Equal(head, xarMagic) {
		return "", 0, fmt.Errorf("read package %s: %w", src, ErrNotPKG)
	}
	if _, err := in.Seek(0, io.SeekStart); err != nil {
		return "", 0, fmt.Errorf("read package: %w", err)
	}
	tmp, err := os.CreateTemp(d.path, "."+id+".tmp-*")
	if err != nil {
		return "", 0, fmt.Errorf("store package: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	h := sha256.New()
	if size, err = io.Copy(io.MultiWriter(tmp, h), in); err != nil {
		return "", 0, fmt.Errorf("store package: %w", err)
	}
	if err = tmp.Chmod(0o600); err != nil {
		return "", 0, fmt.Errorf("store package: %w", err)
	}
	if err = tmp.Sync(); err != nil {
		return "", 0, fmt.Errorf("store package: %w", err)
	}
	if err = tmp.Close(); err != nil {
		return "", 0, fmt.Errorf("store package: %w", err)
	}
	if err = os.Rename(tmp.Name(), dst); err != nil {
		return "", 0, fmt.Errorf("store package: %w", err)
	}
	if err = atomicfile.SyncDir(d.path); err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), size, nil
}

// Remove deletes the file of app id; a missing file is not an error.
func (d *Dir) Remove(id string) error {
	p, err := d.Path(id)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove package: %w", err)
	}
	return nil
}
