package agent

import (
	"io/fs"
	"syscall"
)

// fileOwner is the uid owning the file fi describes.
func fileOwner(fi fs.FileInfo) (uid uint32, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return st.Uid, true
}
