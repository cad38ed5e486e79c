package sqlite

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/server/store/storetest"
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
	storetest.BenchListing(b, s, benchResults)
}
