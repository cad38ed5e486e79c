package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jonboulle/clockwork"

	"github.com/mobileatwork/mobileatwork/server/store"
)

// A saturated database is store.ErrBusy, which the server answers 503 with
// a Retry-After, as the SQLite backend's busy timeout: the caller's work is
// undone and a later try will do.
const (
	// acquireTimeout bounds the wait for a pooled connection: past it every
	// connection is taken by requests that were there first.
	acquireTimeout = 5 * time.Second
	// lockTimeout bounds the wait for a row lock (a device's row, the
	// generation row) unless the DSN sets lock_timeout.
	lockTimeout = "5s"
	// txAttempts is how often a transaction chosen as a deadlock victim or
	// failed for serialization is run: admin writes queue on the
	// generation row, so two that lock the same rows in different orders
	// can deadlock, and running the loser again is what resolves it.
	txAttempts = 3
)

// SQLSTATEs of a database that cannot take more now.
const (
	codeTooManyConnections  = "53300"
	codeLockNotAvailable    = "55P03"
	codeSerializationFailed = "40001"
	codeDeadlockDetected    = "40P01"
)

// busy marks err as store.ErrBusy when it says the database is saturated
// rather than that something is wrong.
func busy(err error) error {
	if errors.Is(err, store.ErrBusy) {
		return err
	}
	switch pgCode(err) {
	case codeTooManyConnections, codeLockNotAvailable, codeSerializationFailed, codeDeadlockDetected:
		return fmt.Errorf("%w: %w", store.ErrBusy, err)
	}
	return err
}

// retryable tells a transaction that may succeed if run again at once.
func retryable(err error) bool {
	c := pgCode(err)
	return c == codeSerializationFailed || c == codeDeadlockDetected
}

// acquire takes a pooled connection, waiting at most s.acquireTimeout.
func (s *Store) acquire(ctx context.Context) (*pgxpool.Conn, error) {
	actx, cancel := clockwork.WithTimeout(ctx, s.clock, s.acquireTimeout)
	defer cancel()
	c, err := s.pool.Acquire(actx)
	if err != nil && ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
		return nil, fmt.Errorf("%w: no database connection free within %s", store.ErrBusy, s.acquireTimeout)
	}
	if err != nil {
		return nil, busy(err)
	}
	return c, nil
}

// txOpts runs fn in a transaction on a connection of its own, again (up
// to txAttempts) when the database aborted it as a deadlock victim or for
// serialization: fn must only set what it returns.
func (s *Store) txOpts(ctx context.Context, o pgx.TxOptions, fn func(pgx.Tx) error) error {
	var err error
	for range txAttempts {
		var c *pgxpool.Conn
		if c, err = s.acquire(ctx); err != nil {
			return err
		}
		err = pgx.BeginTxFunc(ctx, c, o, fn)
		c.Release()
		if !retryable(err) || ctx.Err() != nil {
			break
		}
	}
	return busy(err)
}

// pooled runs each statement on a connection acquired for it, as the pool
// itself does, but with the bounded wait of acquire.
type pooled struct{ s *Store }

func (p pooled) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	c, err := p.s.acquire(ctx)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	defer c.Release()
	return c.Exec(ctx, sql, args...)
}

func (p pooled) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	c, err := p.s.acquire(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := c.Query(ctx, sql, args...)
	if err != nil {
		c.Release()
		return nil, err
	}
	return &releasingRows{Rows: rows, release: sync.OnceFunc(c.Release)}, nil
}

func (p pooled) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	c, err := p.s.acquire(ctx)
	if err != nil {
		return errRow{err}
	}
	return releasingRow{row: c.QueryRow(ctx, sql, args...), release: c.Release}
}

func (p pooled) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	c, err := p.s.acquire(ctx)
	if err != nil {
		return pgx.FailedBatchResults(b, err)
	}
	return &releasingBatch{BatchResults: c.SendBatch(ctx, b), release: sync.OnceFunc(c.Release)}
}

// releasingRows gives the connection back when the rows are closed.
type releasingRows struct {
	pgx.Rows
	release func()
}

func (r *releasingRows) Close() {
	r.Rows.Close()
	r.release()
}

// Next closes at the end, as pgx's rows do, so a caller that reads every
// row gives the connection back without calling Close.
func (r *releasingRows) Next() bool {
	if r.Rows.Next() {
		return true
	}
	r.Close()
	return false
}

type releasingRow struct {
	row     pgx.Row
	release func()
}

func (r releasingRow) Scan(dest ...any) error {
	defer r.release()
	return r.row.Scan(dest...)
}

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

type releasingBatch struct {
	pgx.BatchResults
	release func()
}

func (b *releasingBatch) Close() error {
	defer b.release()
	return b.BatchResults.Close()
}
