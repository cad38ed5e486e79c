package postgres

import (
	"fmt"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/store"
	"github.com/mobileatwork/mobileatwork/server/store/postgres/pgtest"
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
