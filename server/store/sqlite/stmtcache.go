package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// maxCachedStmts bounds the statements a stmtDB keeps. The store's queries
// are a fixed set of texts (filters choose among a few shapes), so the
// bound is only a guard: past it, queries are prepared each time.
const maxCachedStmts = 256

// stmtDB is a pool whose queries are prepared once per connection and
// kept. The pure Go driver parses a statement's text at each query
// otherwise, and parsing was a tenth of a quiet check-in's CPU. SQLite
// prepares a kept statement again by itself after a schema change (another
// process's migration).
type stmtDB struct {
	*sql.DB

	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

func newStmtDB(db *sql.DB) *stmtDB { return &stmtDB{DB: db, stmts: map[string]*sql.Stmt{}} }

// stmt returns the kept statement of query, preparing it on first use; nil
// when the cache is full or the statement cannot be prepared (the query
// itself then reports why).
func (d *stmtDB) stmt(ctx context.Context, query string) *sql.Stmt {
	d.mu.Lock()
	defer d.mu.Unlock()
	if st, ok := d.stmts[query]; ok {
		return st
	}
	if len(d.stmts) >= maxCachedStmts {
		return nil
	}
	st, err := d.DB.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	d.stmts[query] = st
	return st
}

func (d *stmtDB) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := d.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return d.DB.QueryContext(ctx, query, args...)
}

func (d *stmtDB) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := d.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return d.DB.QueryRowContext(ctx, query, args...)
}

// Close closes the kept statements, then the pool.
func (d *stmtDB) Close() error {
	d.mu.Lock()
	var errs []error
	for _, st := range d.stmts {
		errs = append(errs, st.Close())
	}
	d.stmts = map[string]*sql.Stmt{}
	d.mu.Unlock()
	return errors.Join(append(errs, d.DB.Close())...)
}
