//go:build linux

// Benchmarks read /proc (memory figures, finding processes by argv), so they
// are Linux-only; the code they measure is shared with darwin.
//
//	go test -run '^$' -bench . -benchtime 1x ./executor/

package executor

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

// BenchmarkLaunchOverhead compares a full Run of `true` (run dir, script
// file, pipes, process group, tracking, cleanup) with a bare exec of
// sh -c true. Goal: ratio ≤ 1.2. MAW_BENCH_TEMPDIR picks the file system
// the run dirs live on (the default is the test's temp dir).
func BenchmarkLaunchOverhead(b *testing.B) {
	const samples = 200
	dir := b.TempDir()
	if parent := os.Getenv("MAW_BENCH_TEMPDIR"); parent != "" {
		var err error
		if dir, err = os.MkdirTemp(parent, "maw-bench-"); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { os.RemoveAll(dir) })
	}
	req := Request{Script: []byte("true"), TempDir: dir}
	var runs, raws, dirs []time.Duration
	for range b.N {
		for range samples {
			// Interleaved so that machine noise hits all alike.
			t0 := time.Now()
			d, err := newRunDir(dir, nil, req.Script)
			if err != nil {
				b.Fatal(err)
			}
			d.remove()
			dirs = append(dirs, time.Since(t0))

			t0 = time.Now()
			res := Run(context.Background(), req)
			runs = append(runs, time.Since(t0))
			if res.Status != Succeeded {
				b.Fatalf("run: %s %s", res.Status, res.Error)
			}
			t0 = time.Now()
			if err := exec.Command("sh", "-c", "true").Run(); err != nil {
				b.Fatal(err)
			}
			raws = append(raws, time.Since(t0))
		}
	}
	r, x := median(runs), median(raws)
	b.ReportMetric(float64(r.Microseconds())/1000, "run-median-ms")
	b.ReportMetric(float64(x.Microseconds())/1000, "exec-median-ms")
	b.ReportMetric(float64(r)/float64(x), "ratio")
	// The private run dir alone (mkdir, create, unlink, rmdir): the part of
	// the overhead that depends on the file system under TempDir.
	b.ReportMetric(float64(median(dirs).Microseconds())/1000, "rundir-median-ms")
}

// procStatus returns a field of /proc/self/status in kB.
func procStatus(b *testing.B, field string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		b.Skip("no /proc/self/status")
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return n
		}
	}
	b.Fatalf("%s not in /proc/self/status", field)
	return 0
}

// BenchmarkFloodRSS lets a script write 1 GiB to stdout and reports how much
// the daemon's memory grew. Goal: < 4 MB.
func BenchmarkFloodRSS(b *testing.B) {
	if runtime.GOOS != "linux" {
		b.Skip("reads /proc/self/status")
	}
	const gib = 1 << 30
	// One small run first, so that code paths touched for the first time
	// (pages of the binary, runtime structures) are not counted as growth.
	Run(context.Background(), Request{Script: []byte("head -c 1048576 /dev/zero"), TempDir: b.TempDir()})
	for range b.N {
		runtime.GC()
		debug.FreeOSMemory()
		// Reset the high-water mark so VmHWM measures this run only.
		_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
		rss0, hwm0 := procStatus(b, "VmRSS"), procStatus(b, "VmHWM")
		t0 := time.Now()
		res := Run(context.Background(), Request{
			Script:  []byte("head -c " + strconv.Itoa(gib) + " /dev/zero"),
			Timeout: 5 * time.Minute,
			TempDir: b.TempDir(),
		})
		took := time.Since(t0)
		rss1, hwm1 := procStatus(b, "VmRSS"), procStatus(b, "VmHWM")
		if res.Status != Succeeded || res.StdoutBytes != gib || !res.Truncated {
			b.Fatalf("status %s, %d bytes, truncated %v: %s", res.Status, res.StdoutBytes, res.Truncated, res.Error)
		}
		b.ReportMetric(float64(rss1-rss0)/1024, "rss-growth-MB")
		b.ReportMetric(float64(hwm1-max(hwm0, rss0))/1024, "peak-growth-MB")
		b.ReportMetric(float64(gib)/(1<<20)/took.Seconds(), "MB/s")
	}
}

// BenchmarkKillTree times a timeout kill of sh → sh → sleep plus a setsid
// escapee, from the moment the limit is reached to the moment the last
// process is gone. Goal: < 100 ms.
func BenchmarkKillTree(b *testing.B) {
	requireSetsid(b)
	const limit = 500 * time.Millisecond
	var kills, returns []time.Duration
	for range b.N {
		a, c := uniqueSleep(), uniqueSleep()
		script := "sh -c 'sleep " + a + "; :' & setsid sleep " + c + " & wait"
		gone := make(chan time.Duration, 1)
		var deadline time.Time
		started := make(chan struct{})
		go func() {
			<-started
			// Wait for the whole tree, then watch it die.
			alive := func(arg string) int {
				procs, _ := systemProcesses.List()
				return len(matching(procs, arg))
			}
			for alive(a) == 0 || alive(c) == 0 {
				time.Sleep(5 * time.Millisecond)
			}
			time.Sleep(time.Until(deadline))
			for alive(a)+alive(c) > 0 {
				time.Sleep(time.Millisecond)
			}
			gone <- time.Since(deadline)
		}()
		deadline = time.Now().Add(limit)
		close(started)
		res := Run(context.Background(), Request{Script: []byte(script), Timeout: limit, TempDir: b.TempDir()})
		returns = append(returns, time.Since(deadline))
		if res.Status != TimedOut {
			b.Fatalf("status %s: %s", res.Status, res.Error)
		}
		select {
		case d := <-gone:
			kills = append(kills, d)
		case <-time.After(5 * time.Second):
			b.Fatal("tree still alive 5s after Run returned")
		}
	}
	b.ReportMetric(float64(median(kills).Microseconds())/1000, "kill-ms")
	b.ReportMetric(float64(median(returns).Microseconds())/1000, "run-return-ms")
}
