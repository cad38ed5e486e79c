// Package atomicfile writes files so that a crash at any moment leaves either
// the old content or the new one, never a torn file: write to a temp file in
// the same directory, fsync it, rename it over the target, fsync the directory.
package atomicfile

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// tmpMarker names WriteFile's temp files (".NAME.tmp-RANDOM"), for Sweep.
const tmpMarker = ".tmp-"

// WriteFile replaces name with data, durably, with the given mode.
func WriteFile(name string, data []byte, mode os.FileMode) (err error) {
	f, err := Create(filepath.Dir(name), filepath.Base(name), mode)
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	defer f.Abort()
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err = f.Commit(name); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}

// File is a file being written durably: a temp file in the directory of
// its final name, moved into place by Commit (replacing) or CommitNew
// (never replacing) once synced. Until then readers see the old content or
// nothing; Abort, or a crash, leaves only a temp file that Sweep removes.
type File struct {
	f    *os.File
	done bool
}

// Create starts a file to be committed in dir; base names its temp file
// (".BASE.tmp-RANDOM", what Sweep recognises).
func Create(dir, base string, mode os.FileMode) (*File, error) {
	f, err := os.CreateTemp(dir, "."+base+tmpMarker+"*")
	if err != nil {
		return nil, err
	}
	if err := f.Chmod(mode); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	return &File{f: f}, nil
}

// Adopt makes f, a file written in place under another name (a download
// kept between attempts), one to finish as Create's: Commit syncs and
// renames it, Abort removes it.
func Adopt(f *os.File) *File { return &File{f: f} }

// Write writes to the temp file.
func (f *File) Write(p []byte) (int, error) { return f.f.Write(p) }

// Chown gives the file to uid (and gid, -1 to keep), before it is visible.
func (f *File) Chown(uid, gid int) error { return f.f.Chown(uid, gid) }

// Commit syncs the file and renames it over name, then syncs the
// directories involved. name may be in another directory of the same file
// system.
func (f *File) Commit(name string) error {
	if err := f.finish(); err != nil {
		return err
	}
	if err := os.Rename(f.f.Name(), name); err != nil {
		return err
	}
	f.done = true
	return syncDirs(filepath.Dir(f.f.Name()), filepath.Dir(name))
}

// CommitNew is Commit that never replaces: it fails with an error
// satisfying errors.Is(err, fs.ErrExist) when name exists, and then leaves
// name as it was.
func (f *File) CommitNew(name string) error {
	if err := f.finish(); err != nil {
		return err
	}
	if err := os.Link(f.f.Name(), name); err != nil {
		return err
	}
	f.Abort() // the temp name goes; the content stays under name
	return syncDirs(filepath.Dir(f.f.Name()), filepath.Dir(name))
}

func (f *File) finish() error {
	if err := f.f.Sync(); err != nil {
		return err
	}
	return f.f.Close()
}

// Abort gives up the file: nothing replaces the final name. It is a no-op
// after a commit, so it can be deferred.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.f.Close()
	os.Remove(f.f.Name())
	f.done = true
}

func syncDirs(a, b string) error {
	if err := SyncDir(a); err != nil {
		return err
	}
	if b != a {
		return SyncDir(b)
	}
	return nil
}

// WriteJSON marshals v (indented, for humans reading the state dir) and
// writes it with WriteFile.
func WriteJSON(name string, v any, mode os.FileMode) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", name, err)
	}
	return WriteFile(name, append(b, '\n'), mode)
}

// ReadJSON decodes name into v.
func ReadJSON(name string, v any) error {
	b, err := os.ReadFile(name)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decode %s: %w", name, err)
	}
	return nil
}

// SyncDir makes a rename or unlink in dir durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open dir %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync dir %s: %w", dir, err)
	}
	return nil
}

// IsTemp tells whether a file name is one of the temp files File writes
// before it commits: not a file yet.
func IsTemp(name string) bool {
	return strings.HasPrefix(name, ".") && strings.Contains(name, tmpMarker)
}

// Sweep removes, from dir (not below it), the temp files that WriteFile
// leaves behind when the process dies between create and rename, if they
// are older than minAge (younger ones may belong to a writer still at
// work). It returns how many it removed.
func Sweep(dir string, minAge time.Duration, now time.Time) (int, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return 0, nil
		}
		return 0, fmt.Errorf("sweep %s: %w", dir, err)
	}
	n := 0
	var errs []error
	for _, e := range ents {
		name := e.Name()
		if !e.Type().IsRegular() || !IsTemp(name) {
			continue
		}
		fi, err := e.Info()
		if err != nil || now.Sub(fi.ModTime()) < minAge {
			continue
		}
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}
