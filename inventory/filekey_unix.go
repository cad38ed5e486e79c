//go:build darwin || linux

package inventory

import (
	"io/fs"
	"syscall"
)

// statKey is the key of the file at p (symbolic links followed), without
// the allocations of os.Stat: an unchanged collection is mostly this call.
func statKey(p string, which int) (fileKey, error) {
	var st syscall.Stat_t
	if err := syscall.Stat(p, &st); err != nil {
		return fileKey{}, &fs.PathError{Op: "stat", Path: p, Err: err}
	}
	return rawKey(&st, which), nil
}

// keyOf is the key of a file read; os gives the raw status on these
// platforms, so it matches statKey.
func keyOf(fi fs.FileInfo, which int) fileKey {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return rawKey(st, which)
	}
	return infoKey(fi, which)
}

func rawKey(st *syscall.Stat_t, which int) fileKey {
	mtime, ctime := statTimes(st)
	return fileKey{
		which: uint8(which), mode: uint32(st.Mode), size: st.Size, mtime: mtime, ctime: ctime,
		dev: uint64(st.Dev), ino: uint64(st.Ino),
	}
}
