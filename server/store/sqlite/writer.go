package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"

	sqlite3 "modernc.org/sqlite/lib"

	"github.com/mobileatwork/mobileatwork/internal/routines"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// Defaults of the group-commit writer.
const (
	// writeQueue bounds the writes waiting for the writer. A full queue is
	// store.ErrBusy at once: waiting longer would only turn into timeouts
	// at the agents, which retry after a Retry-After anyway.
	writeQueue = 1024
	// maxBatch bounds one group commit, so a long queue is committed in
	// several transactions rather than one that holds the lock for long.
	maxBatch = 128
)

// errClosed is a write submitted after Close.
var errClosed = errors.New("store closed")

// writeOp is one caller's write. fn runs inside the batch's transaction
// with the writer's context: a caller that gives up must not interrupt the
// statement of a transaction that carries other callers' writes.
type writeOp struct {
	ctx  context.Context
	fn   func(ctx context.Context, tx *sql.Tx) error
	done chan error
}

// writer commits small writes in groups: one goroutine takes whatever
// queued while the previous commit was syncing and commits it in one
// transaction, so concurrent check-ins share one fsync instead of taking
// turns at the write lock. Each write runs in its own savepoint, so one
// that fails is undone alone; its caller learns the outcome only after
// the commit, so what is acknowledged is durable.
type writer struct {
	db    *sql.DB
	queue chan *writeOp
	g     *routines.Group

	mu     sync.RWMutex // held for reading while sending, so Close can seal the queue
	closed bool
}

func newWriter(db *sql.DB, depth int) *writer {
	w := &writer{db: db, queue: make(chan *writeOp, depth), g: routines.New(context.Background())}
	w.g.Go(w.run)
	return w
}

// do queues fn and waits until the transaction that ran it committed or
// failed. A full queue is store.ErrBusy without waiting. Once queued, the
// call waits for the outcome even if ctx ends, so its answer is the truth
// about what was stored; a write whose ctx ended before it ran is skipped.
func (w *writer) do(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	op := &writeOp{ctx: ctx, fn: fn, done: make(chan error, 1)}
	w.mu.RLock()
	if w.closed {
		w.mu.RUnlock()
		return errClosed
	}
	select {
	case w.queue <- op:
	default:
		w.mu.RUnlock()
		return fmt.Errorf("%w: %d writes are waiting", store.ErrBusy, cap(w.queue))
	}
	w.mu.RUnlock()
	return <-op.done
}

// close refuses new writes, commits those already queued and waits for
// the writer to stop.
func (w *writer) close() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	w.g.Close()
}

func (w *writer) run(ctx context.Context) {
	batch := make([]*writeOp, 0, maxBatch)
	for {
		select {
		case op := <-w.queue:
			w.commit(w.fill(append(batch[:0], op)))
		case <-ctx.Done():
			// The queue is sealed: commit what is left, then stop.
			for len(w.queue) > 0 {
				w.commit(w.fill(batch[:0]))
			}
			return
		}
	}
}

// fill adds queued writes to batch without waiting, up to maxBatch.
func (w *writer) fill(batch []*writeOp) []*writeOp {
	for len(batch) < maxBatch {
		select {
		case op := <-w.queue:
			batch = append(batch, op)
		default:
			return batch
		}
	}
	return batch
}

// commit runs batch in one transaction and tells each caller its outcome.
func (w *writer) commit(batch []*writeOp) {
	errs := make([]error, len(batch))
	defer func() {
		for i, op := range batch {
			op.done <- errs[i]
		}
	}()
	failAll := func(err error) {
		for i := range errs {
			if errs[i] == nil {
				errs[i] = err
			}
		}
	}
	// Statements run on a context no caller can cancel: an interrupted
	// statement would roll back every write of the batch.
	ctx := context.WithoutCancel(w.g.Context())
	tx, err := w.db.BeginTx(ctx, nil)
	if err != nil {
		failAll(busy(fmt.Errorf("begin: %w", err)))
		return
	}
	for i, op := range batch {
		if err := op.ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		if err := runSavepoint(ctx, tx, op.fn); err != nil {
			var broken brokenTx
			if errors.As(err, &broken) {
				tx.Rollback()
				failAll(busy(broken.err))
				return
			}
			errs[i] = busy(err)
		}
	}
	if err := tx.Commit(); err != nil {
		failAll(busy(fmt.Errorf("commit: %w", err)))
	}
}

// brokenTx is a savepoint statement that failed: the transaction can no
// longer be trusted and every write of the batch fails.
type brokenTx struct{ err error }

func (b brokenTx) Error() string { return b.err.Error() }

// runSavepoint runs fn in a savepoint and undoes its changes when it fails.
func runSavepoint(ctx context.Context, tx *sql.Tx, fn func(context.Context, *sql.Tx) error) error {
	if _, err := tx.ExecContext(ctx, `SAVEPOINT write_op`); err != nil {
		return brokenTx{fmt.Errorf("savepoint: %w", err)}
	}
	ferr := fn(ctx, tx)
	if ferr != nil {
		if _, err := tx.ExecContext(ctx, `ROLLBACK TO write_op`); err != nil {
			return brokenTx{fmt.Errorf("roll back to savepoint: %w", err)}
		}
	}
	if _, err := tx.ExecContext(ctx, `RELEASE write_op`); err != nil {
		return brokenTx{fmt.Errorf("release savepoint: %w", err)}
	}
	return ferr
}

// busy marks a lock that outlasted the busy timeout as store.ErrBusy, so
// the server answers "try again later" rather than an internal error.
func busy(err error) error {
	switch sqliteCode(err) & 0xff {
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		return fmt.Errorf("%w: %w", store.ErrBusy, err)
	}
	return err
}
