// Package cpio writes POSIX.1 "odc" cpio archives (magic 070707), the format
// Apple's Installer expects inside a flat package's Payload and Scripts.
//
// Only writing is implemented: the archives are produced on a build machine and
// read by Installer (or cpio/bsdtar in tests). Ownership is explicit on every
// entry so packages never leak the build user's uid into a Mac.
package cpio

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"time"
)

// ErrFieldOverflow reports a value too large for its fixed-width octal field.
var ErrFieldOverflow = errors.New("cpio: value does not fit in odc field")

// Entry is one archive member. Names are written as given, so callers use the
// "./path" form that pkgbuild writes.
type Entry struct {
	Name    string
	Mode    fs.FileMode // permission bits plus fs.ModeDir or fs.ModeSymlink
	UID     int
	GID     int
	ModTime time.Time
	Data    []byte // file contents, or the target of a symlink
}

// Unix file-type bits of st_mode, which odc stores verbatim.
const (
	typeReg     = 0o100000
	typeDir     = 0o040000
	typeSymlink = 0o120000
)

// Writer appends entries to an odc archive.
type Writer struct {
	w   io.Writer
	ino int
	err error
}

// NewWriter returns a Writer that writes to w. Call Close to write the trailer.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// unixMode converts a Go file mode into st_mode bits.
func unixMode(m fs.FileMode) uint64 {
	perm := uint64(m.Perm())
	if m&fs.ModeSetuid != 0 {
		perm |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		perm |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		perm |= 0o1000
	}
	switch {
	case m.IsDir():
		return perm | typeDir
	case m&fs.ModeSymlink != 0:
		return perm | typeSymlink
	default:
		return perm | typeReg
	}
}

// WriteEntry writes one member.
func (cw *Writer) WriteEntry(e Entry) error {
	if cw.err != nil {
		return cw.err
	}
	if e.Name == "" {
		return fmt.Errorf("cpio: empty entry name")
	}
	if e.Mode.IsDir() && len(e.Data) > 0 {
		return fmt.Errorf("cpio: directory %s carries data", e.Name)
	}
	cw.ino++
	nlink := 1
	if e.Mode.IsDir() {
		nlink = 2
	}
	cw.err = cw.write(e.Name, unixMode(e.Mode), e.UID, e.GID, nlink, e.ModTime, e.Data)
	return cw.err
}

func (cw *Writer) write(name string, mode uint64, uid, gid, nlink int, mtime time.Time, data []byte) error {
	var secs int64
	if !mtime.IsZero() {
		secs = mtime.Unix()
	}
	if uid < 0 || gid < 0 || secs < 0 {
		return fmt.Errorf("cpio: %s: negative uid, gid or mtime: %w", name, ErrFieldOverflow)
	}
	fields := []struct {
		v     uint64
		width int
	}{
		{0, 6},                     // dev
		{uint64(cw.ino), 6},        // ino
		{mode, 6},                  // mode
		{uint64(uid), 6},           // uid
		{uint64(gid), 6},           // gid
		{uint64(nlink), 6},         // nlink
		{0, 6},                     // rdev
		{uint64(secs), 11},         // mtime
		{uint64(len(name) + 1), 6}, // namesize, NUL included
		{uint64(len(data)), 11},    // filesize
	}
	hdr := make([]byte, 0, 76+len(name)+1)
	hdr = append(hdr, "070707"...)
	for _, f := range fields {
		s := fmt.Sprintf("%0*o", f.width, f.v)
		if len(s) > f.width {
			return fmt.Errorf("cpio: %s: %d needs more than %d octal digits: %w", name, f.v, f.width, ErrFieldOverflow)
		}
		hdr = append(hdr, s...)
	}
	hdr = append(hdr, name...)
	hdr = append(hdr, 0)
	if _, err := cw.w.Write(hdr); err != nil {
		return fmt.Errorf("cpio: write header %s: %w", name, err)
	}
	if _, err := cw.w.Write(data); err != nil {
		return fmt.Errorf("cpio: write data %s: %w", name, err)
	}
	return nil
}

// Close writes the TRAILER!!! member. It does not close the underlying writer.
func (cw *Writer) Close() error {
	if cw.err != nil {
		return cw.err
	}
	cw.ino = 0
	cw.err = cw.write("TRAILER!!!", 0, 0, 0, 1, time.Time{}, nil)
	if cw.err == nil {
		cw.err = errors.New("cpio: writer closed")
		return nil
	}
	return cw.err
}
