package postgres

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jonboulle/clockwork"

	"github.com/mobileatwork/mobileatwork/server/store"
	"github.com/mobileatwork/mobileatwork/server/store/postgres/pgtest"
)

func TestBusyCodes(t *testing.T) {
	for _, c := range []struct {
		code            string
		busy, retryable bool
	}{
		{"53300", true, false}, // too_many_connections
		{"55P03", true, false}, // lock_not_available
		{"40001", true, true},  // serialization_failure
		{"40P01", true, true},  // deadlock_detected
		{"23505", false, false},
		{"23503", false, false},
		{"42P01", false, false},
	} {
		err := fmt.Errorf("query: %w", &pgconn.PgError{Code: c.code})
		got := busy(err)
		if errors.Is(got, store.ErrBusy) != c.busy {
			t.Errorf("busy(%s) = %v, want busy %v", c.code, got, c.busy)
		}
		if pgCode(got) != c.code {
			t.Errorf("busy(%s) lost the PostgreSQL error: %v", c.code, got)
		}
		if retryable(got) != c.retryable {
			t.Errorf("retryable(%s) = %v, want %v", c.code, !c.retryable, c.retryable)
		}
		if c.busy && strings.Count(busy(got).Error(), store.ErrBusy.Error()) != 1 {
			t.Errorf("busy twice says it twice: %v", busy(got))
		}
	}
	for _, err := range []error{nil, pgx.ErrNoRows, context.Canceled} {
		if got := busy(err); got != err {
			t.Errorf("busy(%v) = %v, want it unchanged", err, got)
		}
	}
}

// withParam sets a connection parameter of a URL or key=value DSN.
func withParam(t *testing.T, dsn, key, value string) string {
	t.Helper()
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		return dsn + " " + key + "=" + value
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set(key, value)
	u.RawQuery = q.Encode()
	return u.String()
}

// Every connection taken for longer than the acquire timeout is a busy
// store, not a request that waits until the agent gives up; a caller that
// gives up itself is not busy.
func TestAcquireTimeoutIsBusy(t *testing.T) {
	s := openTest(t, withParam(t, pgtest.DSN(t), "pool_max_conns", "1"), Options{Create: true})
	ctx := t.Context()
	held, err := s.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fake := clockwork.NewFakeClockAt(time.Now())
	s.clock = fake
	done := make(chan error, 1)
	go func() {
		_, err := s.Generation(ctx)
		done <- err
	}()
	if err := fake.BlockUntilContext(ctx, 1); err != nil {
		t.Fatal(err)
	}
	fake.Advance(s.acquireTimeout - time.Millisecond)
	select {
	case err := <-done:
		t.Fatalf("Generation returned before the acquire timeout: %v", err)
	default:
	}
	fake.Advance(time.Millisecond)
	if err := <-done; !errors.Is(err, store.ErrBusy) {
		t.Fatalf("Generation with every connection taken = %v, want ErrBusy", err)
	}

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Generation(cctx); errors.Is(err, store.ErrBusy) || !errors.Is(err, context.Canceled) {
		t.Fatalf("Generation of a caller that gave up = %v, want context.Canceled and not ErrBusy", err)
	}

	held.Release()
	s.clock = clockwork.NewRealClock()
	if _, err := s.Generation(ctx); err != nil {
		t.Fatalf("Generation once the connection is free: %v", err)
	}
}

// A row lock held past lock_timeout is a busy store, and the write that
// waited for it changed nothing.
func TestLockTimeoutIsBusy(t *testing.T) {
	s := openTest(t, withParam(t, pgtest.DSN(t), "lock_timeout", "50"), Options{Create: true})
	ctx := t.Context()
	enrolled := time.Now().UTC().Truncate(time.Second)
	if err := s.CreateDevice(ctx, store.Device{ID: "d1", EnrolledAt: enrolled}); err != nil {
		t.Fatal(err)
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT 1 FROM devices WHERE id = 'd1' FOR UPDATE`); err != nil {
		t.Fatal(err)
	}
	_, err = s.RecordCheckin(ctx, "d1", store.Checkin{At: enrolled.Add(time.Minute)})
	if !errors.Is(err, store.ErrBusy) || pgCode(err) != codeLockNotAvailable {
		t.Fatalf("check-in of a locked device = %v, want ErrBusy from lock_not_available", err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	d, err := s.Device(ctx, "d1")
	if err != nil {
		t.Fatal(err)
	}
	if !d.LastCheckin.IsZero() {
		t.Fatalf("the refused check-in was recorded: last check-in %v", d.LastCheckin)
	}
}

// Admin writes queue on the generation row, so two that lock rows in
// different orders deadlock where they did not before; the one the
// database aborts runs again and both succeed.
func TestDeadlockRetried(t *testing.T) {
	s := openTest(t, pgtest.DSN(t), Options{Create: true})
	ctx := t.Context()
	now := time.Now()
	if err := s.CreateConfiguration(ctx, store.Configuration{ID: "c2", Kind: store.KindMobileAtWork, Name: "two",
		Version: 1, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	const c1 = store.DefaultConfigID
	update := `UPDATE configurations SET description = $1 WHERE id = $2`
	var aRuns, bRuns atomic.Int32
	var mu sync.Mutex
	var failed []error // the runs that did not commit
	note := func(err error) error {
		if err != nil {
			mu.Lock()
			failed = append(failed, err)
			mu.Unlock()
		}
		return err
	}
	aHolds, bPID := make(chan struct{}), make(chan uint32, 1)
	errs := make(chan error, 2)
	go func() {
		errs <- s.tx(ctx, func(q db) error {
			first := aRuns.Add(1) == 1
			if _, err := q.Exec(ctx, update, "a", c1); err != nil { // takes the generation row
				return note(err)
			}
			if first {
				close(aHolds)
				if err := waitForLock(ctx, s, <-bPID); err != nil {
					return err
				}
			}
			_, err := q.Exec(ctx, update, "a", "c2") // waits for B, which waits for A
			return note(err)
		})
	}()
	go func() {
		<-aHolds
		errs <- s.tx(ctx, func(q db) error {
			if bRuns.Add(1) == 1 {
				var pid uint32
				if err := q.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
					return err
				}
				bPID <- pid
			}
			_, err := q.Exec(ctx, update, "b", "c2") // locks c2, then waits for the generation row
			return note(err)
		})
	}()
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatalf("deadlocked writes: %v", err)
		}
	}
	// Which one loses, and how often on a loaded machine, is the
	// database's choice; what matters is that a loser only ever lost to a
	// deadlock and ran again, and that there was one.
	if len(failed) == 0 {
		t.Fatalf("the two transactions ran %d and %d times without a deadlock", aRuns.Load(), bRuns.Load())
	}
	for _, err := range failed {
		if pgCode(err) != codeDeadlockDetected {
			t.Fatalf("a run failed with %v, want only deadlock victims", err)
		}
	}
	if runs := aRuns.Load() + bRuns.Load(); runs != int32(2+len(failed)) {
		t.Fatalf("the two transactions ran %d times for %d deadlocks, want each victim run once more", runs, len(failed))
	}
	c, err := s.Configuration(ctx, c1)
	if err != nil || c.Description != "a" {
		t.Fatalf("configuration %s after the retry: %q, %v", c1, c.Description, err)
	}
}

// waitForLock returns once the backend pid waits for a lock.
func waitForLock(ctx context.Context, s *Store, pid uint32) error {
	for {
		var waiting bool
		err := s.db().QueryRow(ctx, `SELECT COALESCE(wait_event_type = 'Lock', false) FROM pg_stat_activity WHERE pid = $1`, pid).Scan(&waiting)
		if err != nil || waiting {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}
