package inventory

import "syscall"

func statTimes(st *syscall.Stat_t) (mtime, ctime int64) {
	return unixNano(int64(st.Mtim.Sec), int64(st.Mtim.Nsec)), unixNano(int64(st.Ctim.Sec), int64(st.Ctim.Nsec))
}
