package inventory

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/inventory/invtest"
)

// BenchmarkCollect5000x1000 collects a large fleet machine's worth of
// receipts and apps and compares it with reading the same files one after
// another (the `cat` floor): metric x-cat is Collect time / cat time.
func BenchmarkCollect5000x1000(b *testing.B) {
	const nReceipts, nApps = 5000, 1000
	root := b.TempDir()
	if err := invtest.WriteFixture(root, nReceipts, nApps); err != nil {
		b.Fatal(err)
	}
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".plist") {
			files = append(files, p)
		}
		return err
	})
	if err != nil || len(files) != nReceipts+nApps {
		b.Fatalf("walk fixture: %d files, %v", len(files), err)
	}
	cat := func() time.Duration {
		start := time.Now()
		for _, f := range files {
			if _, err := os.ReadFile(f); err != nil {
				b.Fatal(err)
			}
		}
		return time.Since(start)
	}
	cat() // warm the page cache for both sides
	runs := make([]time.Duration, 7)
	for i := range runs {
		runs[i] = cat()
	}
	slices.Sort(runs)
	catTime := runs[len(runs)/2]

	ctx := context.Background()
	n := 0
	for b.Loop() {
		rep, err := Collect(ctx, Options{Root: root})
		if err != nil || len(rep.Receipts) != nReceipts || len(rep.Apps) != nApps {
			b.Fatalf("Collect: %d receipts, %d apps, %v", len(rep.Receipts), len(rep.Apps), err)
		}
		n++
	}
	perOp := b.Elapsed() / time.Duration(n)
	b.ReportMetric(float64(catTime)/1e6, "cat-ms")
	b.ReportMetric(float64(perOp)/1e6, "collect-ms")
	b.ReportMetric(float64(perOp)/float64(catTime), "x-cat")
}

// BenchmarkCollectorUnchanged5000x1000 is what a check-in costs when
// nothing was installed since the previous one: a Collector's collection
// of an unchanged tree, against a full collection (Collect) of the same
// tree measured in the same run. Metrics x-full, B-x-full and allocs-x-full
// are the incremental collection's time, bytes and allocations over the
// full one's.
func BenchmarkCollectorUnchanged5000x1000(b *testing.B) {
	const nReceipts, nApps = 5000, 1000
	root := b.TempDir()
	if err := invtest.WriteFixture(root, nReceipts, nApps); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	check := func(rep Report, err error) {
		if err != nil || len(rep.Receipts) != nReceipts || len(rep.Apps) != nApps {
			b.Fatalf("collect: %d receipts, %d apps, %v", len(rep.Receipts), len(rep.Apps), err)
		}
	}
	full := func() {
		rep, err := Collect(ctx, Options{Root: root})
		check(rep, err)
	}
	full() // warm the page cache
	base := measure(7, full)

	c := NewCollector(Options{Root: root})
	want, _, err := c.Collect(ctx)
	check(want, err)
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	n := 0
	for b.Loop() {
		rep, stats, err := c.Collect(ctx)
		check(rep, err)
		if stats.Read != 0 {
			b.Fatalf("unchanged collection read %d files", stats.Read)
		}
		n++
	}
	runtime.ReadMemStats(&m1)
	perOp := b.Elapsed() / time.Duration(n)
	bytesPerOp := float64(m1.TotalAlloc-m0.TotalAlloc) / float64(n)
	allocsPerOp := float64(m1.Mallocs-m0.Mallocs) / float64(n)
	b.ReportMetric(float64(base.time)/1e6, "full-ms")
	b.ReportMetric(float64(perOp)/1e6, "unchanged-ms")
	b.ReportMetric(float64(perOp)/float64(base.time), "x-full")
	b.ReportMetric(bytesPerOp/base.bytes, "B-x-full")
	b.ReportMetric(allocsPerOp/base.allocs, "allocs-x-full")
}

// cost is the median time, bytes and allocations of one call.
type cost struct {
	time          time.Duration
	bytes, allocs float64
}

func measure(runs int, f func()) cost {
	times := make([]time.Duration, runs)
	bytes := make([]float64, runs)
	allocs := make([]float64, runs)
	var m0, m1 runtime.MemStats
	for i := range runs {
		runtime.ReadMemStats(&m0)
		start := time.Now()
		f()
		times[i] = time.Since(start)
		runtime.ReadMemStats(&m1)
		bytes[i] = float64(m1.TotalAlloc - m0.TotalAlloc)
		allocs[i] = float64(m1.Mallocs - m0.Mallocs)
	}
	slices.Sort(times)
	slices.Sort(bytes)
	slices.Sort(allocs)
	return cost{times[runs/2], bytes[runs/2], allocs[runs/2]}
}

func BenchmarkCheckBinaryPlist(b *testing.B) {
	info, err := invtest.BinaryPlist(invtest.AppInfo("com.example.bench", "Bench", "1.0"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(info)))
	for b.Loop() {
		if err := CheckBinaryPlist(info); err != nil {
			b.Fatal(err)
		}
	}
}
