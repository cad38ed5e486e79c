package postgres

import (
	"fmt"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/store"
	"github.com/mobileatwork/mobileatwork/server/store/postgres/pgtest"
	"github.com/mobileatwork/mobileatwork/server/store/storetest"
)

// BenchmarkLatestResults reads a device's newest result of 50
// configurations (20 results each) in one query, against the baseline of
// one Results query with Limit 1 per configuration.
func BenchmarkLatestResults(b *testing.B) {
	s := openTest(b, pgtest.DSN(b), Options{Create: true})
	ctx := b.Context()
	const configs, runs = 50, 20
	ids := make([]string, 0, configs)
	at := time.Now().UTC().Truncate(time.Second)
	for c := range configs {
		id := fmt.Sprintf("c%02d", c)
		ids = append(ids, id)
		for r := range runs {
			res := protocol.Result{RunID: fmt.Sprintf("%s-r%02d", id, r), DeviceID: "d1", AssignmentID: id,
				AssignmentVersion: 1, ScriptID: "s1", Status: "success"}
			if _, err := s.PutResult(ctx, res, at.Add(time.Duration(r)*time.Second)); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("baseline=Results-per-configuration", func(b *testing.B) {
		for b.Loop() {
			for _, id := range ids {
				if rs, err := s.Results(ctx, store.ResultFilter{DeviceID: "d1", ConfigID: id, Limit: 1}); err != nil || len(rs) != 1 {
					b.Fatal(rs, err)
				}
			}
		}
	})
	b.Run("LatestResults", func(b *testing.B) {
		for b.Loop() {
			if got, err := s.LatestResults(ctx, "d1", ids); err != nil || len(got) != configs {
				b.Fatal(len(got), err)
			}
		}
	})
}

// benchResults is the size of the history the listing benchmark reads, as
// in the SQLite backend's.
const benchResults = 200_000

// BenchmarkListResults reads a 200,000-row history with EachResult against
// the baseline of Results in the same run. B/row is what each row costs in
// allocations; held-B/row is the heap still held when the listing ends,
// which for Results is the whole list and for EachResult nothing: pgx
// decodes a row at a time off the connection.
func BenchmarkListResults(b *testing.B) {
	s := openTest(b, pgtest.DSN(b), Options{Create: true})
	ctx := b.Context()
	// The rows of the SQLite benchmark, written by the database itself.
	if _, err := s.db().Exec(ctx, `INSERT INTO results (`+resultColumns+`)
SELECT 'run-' || lpad(i::text, 7, '0'), 'd' || lpad((i % 10000)::text, 5, '0'), 'c' || lpad((i % 50)::text, 2, '0'),
	1, 's1', NULL, 'succeeded', 0, NULL, NULL, 120, convert_to('installed 3 packages, 0 failed, all up to date', 'UTF8'),
	''::bytea, 40, 0, false, false, '', $1::timestamptz + i * interval '1 millisecond', '', ''
FROM generate_series(0, $2 - 1) AS i`, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), benchResults); err != nil {
		b.Fatal(err)
	}
	storetest.BenchListing(b, s, benchResults)
}
