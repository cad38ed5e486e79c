package inventory

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
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
