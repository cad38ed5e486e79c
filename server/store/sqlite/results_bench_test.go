package sqlite

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/server/store"
)

// benchResults is the size of the history the listing benchmark reads.
const benchResults = 200_000

// BenchmarkListResults reads a 200,000-row history with EachResult against
// the baseline of Results in the same run. B/row is what each row costs in
// allocations; held-B/row is the heap still held when the listing ends,
// which for Results is the whole list and for EachResult nothing.
func BenchmarkListResults(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "maw.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	err = s.tx(b.Context(), func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(b.Context(), `INSERT INTO results (`+resultColumns+`)
VALUES (?, ?, ?, 1, 's1', NULL, 'succeeded', 0, NULL, NULL, 120, ?, '', 40, 0, 0, 0, '', ?, '', '')`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for i := range benchResults {
			_, err := stmt.ExecContext(b.Context(), fmt.Sprintf("run-%07d", i), fmt.Sprintf("d%05d", i%10_000),
				fmt.Sprintf("c%02d", i%50), "installed 3 packages, 0 failed, all up to date", formatTime(t0.Add(time.Duration(i)*time.Millisecond)))
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	report := func(b *testing.B, list func() (any, int)) {
		var before, after runtime.MemStats
		var held float64
		b.ReportAllocs()
		for b.Loop() {
			runtime.GC()
			runtime.ReadMemStats(&before)
			kept, n := list()
			runtime.GC()
			runtime.ReadMemStats(&after)
			runtime.KeepAlive(kept)
			if n != benchResults {
				b.Fatalf("listed %d results, want %d", n, benchResults)
			}
			held = float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / benchResults
		}
		b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/benchResults, "B/row")
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
			n := 0
			err := s.EachResult(b.Context(), store.ResultFilter{}, func(store.StoredResult) error {
				n++
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			return nil, n
		})
	})
}
