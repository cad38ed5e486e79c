package uninstall

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// removeContained removes p, which must lie below anchor, without ever
// following a symbolic link: every directory between anchor and p must be a
// real directory, and if p itself is a link, only the link goes. os.RemoveAll
// does not follow links below p either. A path already gone is not an error.
func removeContained(anchor, p string) error {
	gone, err := contained(anchor, p)
	if err != nil || gone {
		return err
	}
	if err := os.RemoveAll(p); err != nil {
		return fmt.Errorf("remove %s: %w", p, err)
	}
	return nil
}

// contained checks that p lies below anchor through real directories only.
// gone reports that a directory on the way no longer exists.
func contained(anchor, p string) (gone bool, err error) {
	anchor, p = filepath.Clean(anchor), filepath.Clean(p)
	rel, err := filepath.Rel(anchor, p)
	if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return false, fmt.Errorf("%w %s: not below %s", ErrUnsafePath, p, anchor)
	}
	dir := anchor
	parts := strings.Split(rel, string(filepath.Separator))
	for _, part := range parts[:len(parts)-1] {
		dir = filepath.Join(dir, part)
		fi, err := os.Lstat(dir)
		if errors.Is(err, fs.ErrNotExist) {
			return true, nil
		}
		if err != nil {
			return false, fmt.Errorf("remove %s: %w", p, err)
		}
		if fi.Mode()&fs.ModeSymlink != 0 || !fi.IsDir() {
			return false, fmt.Errorf("%w %s: %s is a symbolic link or not a directory", ErrUnsafePath, p, dir)
		}
	}
	return false, nil
}
