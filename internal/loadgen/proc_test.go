package loadgen

import (
	"os"
	"runtime"
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	// Fields after the name: state ppid pgrp session tty tpgid flags minflt
	// cminflt majflt cmajflt utime stime ...
	tail := " S 1 2 3 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 8 0 12345 0 0"
	for _, tt := range []struct {
		name, line string
		cpu        time.Duration
		bad        bool
	}{
		{"plain", "4242 (mobileatwork-se)" + tail, 3 * time.Second, false},
		{"name with spaces and parentheses", "4242 (a) b (c)" + tail, 3 * time.Second, false},
		{"no name", "4242 mobileatwork" + tail, 0, true},
		{"cut short", "4242 (x) S 1 2 3", 0, true},
		{"not a number", "4242 (x) S 1 2 3 0 -1 4194560 100 0 0 0 many 50", 0, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			u, err := parseStat(tt.line)
			if (err != nil) != tt.bad {
				t.Fatalf("err = %v, want error %v", err, tt.bad)
			}
			if u.CPU != tt.cpu {
				t.Fatalf("cpu = %s, want %s", u.CPU, tt.cpu)
			}
		})
	}
}

func TestStatusKB(t *testing.T) {
	status := "Name:\tmobileatwork-se\nVmHWM:\t   92160 kB\nVmRSS:\t   81920 kB\nThreads:\t9\n"
	for _, tt := range []struct {
		key  string
		want int64
	}{{"VmRSS:", 80 << 20}, {"VmHWM:", 90 << 20}, {"VmSwap:", 0}} {
		if got := statusKB(status, tt.key); got != tt.want {
			t.Errorf("%s = %d, want %d", tt.key, got, tt.want)
		}
	}
}

func TestReadUsageOfThisProcess(t *testing.T) {
	if runtime.GOOS != "linux" {
		if _, err := readUsage(os.Getpid()); err == nil {
			t.Fatal("readUsage succeeded without /proc")
		}
		return
	}
	u, err := readUsage(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if u.RSS <= 0 || u.PeakRSS < u.RSS {
		t.Fatalf("rss %d, peak %d: want a positive RSS at most the peak", u.RSS, u.PeakRSS)
	}
}
