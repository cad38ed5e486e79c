package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// holdWriter makes the writer run a write that waits until release is
// closed, so the test controls what queues behind it.
func holdWriter(t *testing.T, s *Store) (release func(), done <-chan error) {
	t.Helper()
	started, gate := make(chan struct{}), make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		errc <- s.write(context.Background(), func(context.Context, *sql.Tx) error {
			close(started)
			<-gate
			return nil
		})
	}()
	<-started
	var once sync.Once
	release = func() { once.Do(func() { close(gate) }) }
	t.Cleanup(release)
	return release, errc
}

// waitQueued waits until n writes are queued behind the held one.
func waitQueued(s *Store, n int) {
	for len(s.w.queue) < n {
		runtime.Gosched()
	}
}

func result(id string) protocol.Result {
	return protocol.Result{RunID: id, DeviceID: "d1", ScriptID: "s1", Status: protocol.StatusSucceeded}
}

func storedRuns(t *testing.T, s *Store) map[string]bool {
	t.Helper()
	rs, err := s.Results(t.Context(), store.ResultFilter{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, r := range rs {
		out[r.RunID] = true
	}
	return out
}

// A full write queue answers store.ErrBusy at once and writes nothing;
// the writes already queued are all committed.
func TestFullQueueIsBusy(t *testing.T) {
	const depth = 3
	s, err := open(filepath.Join(t.TempDir(), "maw.db"), depth)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	release, held := holdWriter(t, s)

	var wg sync.WaitGroup
	errs := make([]error, depth)
	for i := range depth {
		wg.Go(func() { _, errs[i] = s.PutResult(context.Background(), result(fmt.Sprint("queued-", i)), t0) })
	}
	waitQueued(s, depth)
	if _, err := s.PutResult(t.Context(), result("refused"), t0); !errors.Is(err, store.ErrBusy) {
		t.Fatalf("PutResult on a full queue = %v, want store.ErrBusy", err)
	}
	release()
	wg.Wait()
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	for i, err := range errs {
		if err != nil {
			t.Errorf("queued write %d: %v", i, err)
		}
	}
	got := storedRuns(t, s)
	if got["refused"] || len(got) != depth {
		t.Errorf("stored %v, want the %d queued results and not the refused one", got, depth)
	}
}

// Writes that share a group commit fail alone: a failing one is undone
// entirely, the others are committed.
func TestGroupCommitIsolatesFailures(t *testing.T) {
	s := openTemp(t, filepath.Join(t.TempDir(), "maw.db"))
	ctx := t.Context()
	if err := s.CreateDevice(ctx, store.Device{ID: "d1", EnrolledAt: t0}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateConfiguration(ctx, store.Configuration{ID: "cfg1", Kind: store.KindMobileAtWork, Name: "c", Version: 1,
		CreatedAt: t0, UpdatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	release, held := holdWriter(t, s)

	var wg sync.WaitGroup
	var badErr, goodErr, checkinErr error
	wg.Go(func() {
		// The first status is valid, the second names no device: neither
		// may be stored.
		badErr = s.PutStatuses(context.Background(), []store.DeviceStatus{
			{ConfigID: "cfg1", DeviceID: "d1", Version: 1, Status: store.StatusInstalled, UpdatedAt: t0},
			{ConfigID: "cfg1", DeviceID: "nobody", Version: 1, Status: store.StatusInstalled, UpdatedAt: t0},
		})
	})
	waitQueued(s, 1)
	wg.Go(func() { _, goodErr = s.PutResult(context.Background(), result("good"), t0) })
	waitQueued(s, 2)
	wg.Go(func() {
		_, checkinErr = s.RecordCheckin(context.Background(), "d1", store.Checkin{Facts: protocol.Facts{AgentVersion: "1.80.0"}, At: t0})
	})
	waitQueued(s, 3)
	release()
	wg.Wait()
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	if !errors.Is(badErr, store.ErrNotFound) {
		t.Errorf("PutStatuses with an unknown device = %v, want store.ErrNotFound", badErr)
	}
	if goodErr != nil || checkinErr != nil {
		t.Errorf("writes beside the failing one: PutResult %v, RecordCheckin %v", goodErr, checkinErr)
	}
	if sts, err := s.DeviceStatuses(ctx, "d1"); err != nil || len(sts) != 0 {
		t.Errorf("statuses of d1 = %v, %v; want none (the failed write undone whole)", sts, err)
	}
	if !storedRuns(t, s)["good"] {
		t.Error("the result committed beside a failed write is missing")
	}
	if d, err := s.Device(ctx, "d1"); err != nil || d.AgentVersion != "1.80.0" {
		t.Errorf("device after the check-in: %+v, %v", d, err)
	}
}

// A write whose caller gave up before it ran is skipped and says so.
func TestCancelledWriteIsSkipped(t *testing.T) {
	s := openTemp(t, filepath.Join(t.TempDir(), "maw.db"))
	release, held := holdWriter(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := s.PutResult(ctx, result("gave-up"), t0)
		errc <- err
	}()
	waitQueued(s, 1)
	cancel()
	release()
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("PutResult after its caller gave up = %v, want context.Canceled", err)
	}
	if storedRuns(t, s)["gave-up"] {
		t.Error("a write reported as cancelled was stored")
	}
}

// Close commits what is queued, and refuses writes after it.
func TestCloseCommitsQueuedWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "maw.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	release, held := holdWriter(t, s)
	const n = 5
	var wg sync.WaitGroup
	var failed atomic.Int32
	for i := range n {
		wg.Go(func() {
			if _, err := s.PutResult(context.Background(), result(fmt.Sprint("late-", i)), t0); err != nil {
				failed.Add(1)
			}
		})
	}
	waitQueued(s, n)
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	release()
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	if f := failed.Load(); f != 0 {
		t.Fatalf("%d queued writes failed at Close", f)
	}
	if _, err := s.PutResult(t.Context(), result("after"), t0); !errors.Is(err, errClosed) {
		t.Errorf("PutResult after Close = %v, want errClosed", err)
	}
	s2 := openTemp(t, path)
	if got := storedRuns(t, s2); len(got) != n {
		t.Errorf("after reopening: %d results, want %d", len(got), n)
	}
}

// openBaseline opens the store as it was before the writer: one pool of
// as many connections as callers, every write its own transaction.
func openBaseline(b *testing.B, path string) *Store {
	s, err := Open(path) // creates and migrates the file
	if err != nil {
		b.Fatal(err)
	}
	s.Close()
	db, err := sql.Open("sqlite", dsn(path, connWrite))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return &Store{db: db, read: newStmtDB(db), path: path}
}

// connsOpened is how many connections db opened so far: those open and
// those the pool closed again.
func connsOpened(db *sql.DB) int64 {
	st := db.Stats()
	return int64(st.OpenConnections) + st.MaxIdleClosed + st.MaxIdleTimeClosed + st.MaxLifetimeClosed
}

// BenchmarkParallelWrites compares the durable writes of concurrent
// check-ins (a result, a check-in record) through the group-commit writer
// with the baseline of a transaction per write on a pool of connections,
// in the same run. errors/op counts writes that failed ("database is
// locked" in the baseline, store.ErrBusy with the writer); conns is how
// many SQLite connections were opened.
func BenchmarkParallelWrites(b *testing.B) {
	for _, mode := range []string{"baseline", "writer"} {
		for _, op := range []string{"PutResult", "RecordCheckin"} {
			b.Run(mode+"/"+op, func(b *testing.B) {
				path := filepath.Join(b.TempDir(), "maw.db")
				var s *Store
				if mode == "baseline" {
					s = openBaseline(b, path)
				} else {
					var err error
					if s, err = Open(path); err != nil {
						b.Fatal(err)
					}
					defer s.Close()
				}
				const devices = 64
				for i := range devices {
					if err := s.CreateDevice(b.Context(), store.Device{ID: fmt.Sprint("d", i), EnrolledAt: t0}); err != nil {
						b.Fatal(err)
					}
				}
				var seq, failed atomic.Int64
				b.SetParallelism(32) // many agents per processor, as at a fleet's check-in
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						i := seq.Add(1)
						var err error
						if op == "PutResult" {
							r := result(fmt.Sprint("run-", i))
							r.Stdout = "ok"
							_, err = s.PutResult(context.Background(), r, t0)
						} else {
							_, err = s.RecordCheckin(context.Background(), fmt.Sprint("d", i%devices),
								store.Checkin{Facts: protocol.Facts{AgentVersion: "1.80.0"}, At: t0})
						}
						if err != nil {
							failed.Add(1)
						}
					}
				})
				b.ReportMetric(float64(failed.Load())/float64(b.N), "errors/op")
				conns := connsOpened(s.db)
				if s.read.DB != s.db {
					conns += connsOpened(s.read.DB)
				}
				b.ReportMetric(float64(conns), "conns")
			})
		}
	}
}
