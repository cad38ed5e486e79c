package loadgen

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// usage is a process's CPU time so far and its resident memory, as Linux
// reports them in /proc. Elsewhere reading fails and the figures are left
// out of the report.
type usage struct {
	CPU     time.Duration
	RSS     int64 // bytes
	PeakRSS int64 // bytes, the high-water mark since the process started
}

// userHZ is the unit of the CPU times in /proc/PID/stat: USER_HZ, 100 on
// every Linux architecture Go supports.
const userHZ = 100

func readUsage(pid int) (usage, error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return usage{}, err
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return usage{}, err
	}
	u, err := parseStat(string(stat))
	if err != nil {
		return usage{}, err
	}
	u.RSS, u.PeakRSS = statusKB(string(status), "VmRSS:"), statusKB(string(status), "VmHWM:")
	return u, nil
}

// parseStat reads utime and stime from a /proc/PID/stat line. The command
// name in parentheses may hold spaces and parentheses, so fields are
// counted from the last ')'.
func parseStat(line string) (usage, error) {
	i := strings.LastIndexByte(line, ')')
	if i < 0 {
		return usage{}, fmt.Errorf("/proc stat line without a command name: %q", line)
	}
	f := strings.Fields(line[i+1:])
	// f[0] is field 3 (state): utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return usage{}, fmt.Errorf("/proc stat line with %d fields after the name", len(f))
	}
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return usage{}, fmt.Errorf("/proc stat CPU time %q: %w", s, err)
		}
		ticks += n
	}
	return usage{CPU: time.Duration(ticks) * time.Second / userHZ}, nil
}

// statusKB is the value of a "Key:   123 kB" line of /proc/PID/status in
// bytes, 0 when absent.
func statusKB(status, key string) int64 {
	for _, l := range strings.Split(status, "\n") {
		if rest, ok := strings.CutPrefix(l, key); ok {
			f := strings.Fields(rest)
			if len(f) >= 1 {
				n, _ := strconv.ParseInt(f[0], 10, 64)
				return n << 10
			}
		}
	}
	return 0
}

// loadAverage is the machine's one-minute load average, which says how
// much else ran beside the generator and the server; -1 when unknown.
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return -1
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return -1
	}
	return v
}
