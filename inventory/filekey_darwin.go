package inventory

import "syscall"

func statTimes(st *syscall.Stat_t) (mtime, ctime int64) {
	return unixNano(st.Mtimespec.Sec, st.Mtimespec.Nsec), unixNano(st.Ctimespec.Sec, st.Ctimespec.Nsec)
}
