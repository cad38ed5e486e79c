package executor

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// runDir is a run's private directory, "maw-run-*" in a parent only root may
// change. A script run as a user owns its directory, so everything below it
// is the user's to rearrange; the parent is not: the user can neither rename
// the directory nor put a link in its place. Every operation goes through
// an os.Root on the parent, so the removal at the end never follows a link
// the script left, to where the root daemon would delete.
type runDir struct {
	parent *os.Root
	name   string
	path   string // parent/name, for the child's working directory and argv
}

// scriptName is the script's file in its run directory.
const scriptName = "script"

// errRunParent refuses a parent directory that others could change.
var errRunParent = errors.New("unsafe run directory parent")

// newRunDir creates the run directory in parent ("" is os.TempDir(), for
// runs as the current user only) and writes the script into it, both handed
// to u when set: the script first, then the directory, so the user never
// holds a directory root still writes into.
func newRunDir(parent string, u *User, body []byte) (*runDir, error) {
	if parent == "" {
		if u != nil {
			return nil, fmt.Errorf("%w: a run as %s needs a parent directory of root's that others may only traverse", errRunParent, u.Name)
		}
		parent = os.TempDir()
	}
	root, err := os.OpenRoot(parent)
	if err != nil {
		return nil, fmt.Errorf("create run dir: %w", err)
	}
	fi, err := root.Stat(".")
	if err == nil {
		err = checkRunParent(fi, u != nil)
	}
	if err != nil {
		root.Close()
		return nil, fmt.Errorf("create run dir in %s: %w", parent, err)
	}
	d := &runDir{parent: root}
	for attempt := 0; ; attempt++ {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		d.name = "maw-run-" + hex.EncodeToString(b)
		err = root.Mkdir(d.name, 0o700)
		if err == nil || !errors.Is(err, fs.ErrExist) || attempt == 3 {
			break
		}
	}
	if err != nil {
		root.Close()
		return nil, fmt.Errorf("create run dir: %w", err)
	}
	d.path = filepath.Join(parent, d.name)
	if err := d.write(body, u); err != nil {
		d.remove()
		return nil, err
	}
	return d, nil
}

// checkRunParent accepts a directory of the daemon's own user that nobody
// else may write to. A sticky one (/tmp) is enough for the daemon's own
// runs, whose directory stays its own, so nobody else may rename it there;
// never for a user's, who would own what it could then rename.
func checkRunParent(fi fs.FileInfo, forUser bool) error {
	if !fi.IsDir() {
		return fmt.Errorf("%w: not a directory", errRunParent)
	}
	if !forUser && fi.Mode()&fs.ModeSticky != 0 {
		return nil
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("%w: owned by uid %d, not %d", errRunParent, st.Uid, os.Geteuid())
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("%w: mode %s lets others rename what it holds (want 0711 or 0700)", errRunParent, fi.Mode().Perm())
	}
	return nil
}

// scriptPath is the script's path, for argv.
func (d *runDir) scriptPath() string { return filepath.Join(d.path, scriptName) }

// write creates the script exclusively, owner-only, and hands the script
// and then the directory to u through their descriptors.
func (d *runDir) write(body []byte, u *User) error {
	f, err := d.parent.OpenFile(filepath.Join(d.name, scriptName), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o700)
	if err != nil {
		return fmt.Errorf("write script: %w", err)
	}
	_, werr := f.Write(body)
	var oerr error
	if u != nil && werr == nil {
		oerr = f.Chown(int(u.UID), int(u.GID))
	}
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		return fmt.Errorf("write script: %w", err)
	}
	if u == nil {
		return nil
	}
	if oerr == nil {
		var dir *os.File
		if dir, oerr = d.parent.Open(d.name); oerr == nil {
			oerr = errors.Join(dir.Chown(int(u.UID), int(u.GID)), dir.Close())
		}
	}
	if oerr != nil {
		return fmt.Errorf("hand run dir to %s: %w", u.Name, oerr)
	}
	return nil
}

// remove deletes the run directory without following links. Two unlinks
// cover the usual case cheaply; a script that left files behind gets the
// full RemoveAll.
func (d *runDir) remove() {
	defer d.parent.Close()
	if err := d.parent.Remove(filepath.Join(d.name, scriptName)); err == nil || errors.Is(err, fs.ErrNotExist) {
		if d.parent.Remove(d.name) == nil {
			return
		}
	}
	_ = d.parent.RemoveAll(d.name)
}
