package storetest

import (
	"runtime"
	"testing"

	"github.com/mobileatwork/mobileatwork/server/store"
)

// BenchListing reads the n results a backend's benchmark wrote with
// EachResult against the baseline of Results, in the same run. B/row is what
// each row costs in allocations; held-B/row is the heap still held when the
// listing ends, which for Results is the whole list and for EachResult
// nothing.
func BenchListing(b *testing.B, s store.ResultStore, n int) {
	report := func(b *testing.B, list func() (any, int)) {
		var before, after runtime.MemStats
		var held float64
		b.ReportAllocs()
		for b.Loop() {
			runtime.GC()
			runtime.ReadMemStats(&before)
			kept, got := list()
			runtime.GC()
			runtime.ReadMemStats(&after)
			runtime.KeepAlive(kept)
			if got != n {
				b.Fatalf("listed %d results, want %d", got, n)
			}
			held = float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(n)
		}
		b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(n), "B/row")
		b.ReportMetric(max(held, 0), "held-B/row")
	}
	b.Run("baseline=Results", func(b *testing.B) {
		report(b, func() (any, int) {
			rs, err := s.Results(b.Context(), store.ResultFilter{})
			if err != nil {
				b.Fatal(err)
			}
			return rs, len(rs)
		})
	})
	b.Run("EachResult", func(b *testing.B) {
		report(b, func() (any, int) {
			got := 0
			err := s.EachResult(b.Context(), store.ResultFilter{}, func(store.StoredResult) error {
				got++
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			return nil, got
		})
	})
}
