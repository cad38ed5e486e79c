// Package sqlite is the SQLite backend of the server store, built on the pure
// Go driver modernc.org/sqlite so the server cross-compiles without cgo.
//
// SQLite lets one connection write at a time, so a Store has exactly one
// write connection and a bounded pool of query_only read connections: a
// pool of writers only queues at the file lock, where waiters poll and
// time out ("database is locked") instead of taking turns. The small writes
// every check-in makes go through one writer goroutine that commits them in
// groups (see writer).
//
// One database file is shared by `serve` and by admin commands that run
// beside it, so every connection uses WAL (readers never block the writer),
// a busy timeout (a writer waits for another process instead of failing) and
// BEGIN IMMEDIATE for read-write transactions (a transaction takes the write
// lock before it reads, so it cannot fail half-way with SQLITE_BUSY when
// another process committed in between).
package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/mobileatwork/mobileatwork/server/store"
)

var _ store.AllStorage = (*Store)(nil)

// busyTimeout is how long a statement waits for a lock held by another
// process (an admin command beside `serve`) before failing. Inside one
// process writes never wait on each other at the file lock; a lock held
// longer than this is answered as store.ErrBusy, "try again later".
const busyTimeout = 5 * time.Second

// Store is a store.AllStorage kept in one SQLite file.
type Store struct {
	// db is the one write connection: migrations, admin writes and the
	// group commits of w all take turns on it.
	db *sql.DB
	// read is a bounded pool of query_only connections for every read.
	read *stmtDB
	w    *writer
	path string // absolute
}

// readConns bounds the read pool: reads are CPU-bound in the pure Go
// driver, so more connections than processors only cost memory. Idle
// connections are kept, so a burst does not open and close them.
func readConns() int { return max(4, runtime.GOMAXPROCS(0)) }

// Open opens the database at path, creating it with mode 0600 if it does not
// exist, and brings its schema up to date. The file holds script keys, so an
// existing file readable by others is tightened to 0600 as well.
func Open(path string) (*Store, error) { return open(path, writeQueue) }

// open is Open with the depth of the write queue.
func open(path string, queue int) (*Store, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	if err := ensurePrivateFile(abs); err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	db, err := sql.Open("sqlite", dsn(abs, connWrite))
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxIdleTime(0)
	s := &Store{db: db, path: abs}
	ctx, cancel := context.WithTimeout(context.Background(), 2*busyTimeout)
	defer cancel()
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	// Readers open after the migration made the file WAL.
	read, err := sql.Open("sqlite", dsn(abs, connRead))
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	n := readConns()
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	read.SetConnMaxIdleTime(0)
	s.read = newStmtDB(read)
	s.w = newWriter(db, queue)
	return s, nil
}

// Close commits the writes already queued and releases the database. It
// does not wait for other processes.
func (s *Store) Close() error {
	if s.w != nil {
		s.w.close()
	}
	rerr := s.read.Close()
	if err := errors.Join(s.db.Close(), rerr); err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	return nil
}

// ensurePrivateFile creates path with mode 0600 if it is missing, so SQLite
// (which creates its -wal and -shm files with the database file's mode)
// never leaves a world-readable copy of the data behind.
func ensurePrivateFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("not a regular file")
	}
	if fi.Mode().Perm()&0o077 != 0 {
		if err := f.Chmod(0o600); err != nil {
			return fmt.Errorf("restrict permissions: %w", err)
		}
	}
	return nil
}

// The kinds of connection dsn builds.
const (
	connWrite = iota
	connRead
	connSnapshot
)

// dsn builds the connection string of one kind of connection. Every pragma
// is applied to each new connection, busy_timeout first.
// synchronous=FULL because the server acknowledges results as durable once
// committed: in WAL mode NORMAL could lose the last commits on power loss.
// Readers are query_only, so a write sent to the read pool by mistake fails
// instead of contending for the lock.
func dsn(path string, kind int) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	switch kind {
	case connWrite:
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "foreign_keys(1)")
		q.Add("_pragma", "synchronous(FULL)")
		q.Set("_txlock", "immediate")
	case connRead:
		q.Add("_pragma", "query_only(1)")
	}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(path), RawQuery: q.Encode()}
	return u.String()
}

// tx runs fn in a read-write transaction of its own on the write
// connection, which takes the write lock at BEGIN.
func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return busy(fmt.Errorf("begin: %w", err))
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return busy(err)
	}
	if err := tx.Commit(); err != nil {
		return busy(fmt.Errorf("commit: %w", err))
	}
	return nil
}

// write runs fn in the next group commit of the writer and returns once
// that commit is durable (or failed). fn must use only tx and the ctx it
// is given.
func (s *Store) write(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	if s.w == nil { // the baseline of BenchmarkParallelWrites: a transaction per write
		return s.tx(ctx, func(tx *sql.Tx) error { return fn(ctx, tx) })
	}
	return s.w.do(ctx, fn)
}

// timeLayout is RFC 3339 in UTC with a fixed-width fraction, so stored times
// sort as text in the same order as the instants they denote and keep
// nanosecond precision. RFC3339Nano trims trailing zeros and would not sort.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// nullTime stores the zero time as NULL, for optional instants.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return formatTime(t)
}

func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("parse stored time %q: %w", s, err)
	}
	return t, nil
}

func parseNullTime(s sql.NullString) (time.Time, error) {
	if !s.Valid {
		return time.Time{}, nil
	}
	return parseTime(s.String)
}

// marshalJSON encodes a value for a JSON column.
func marshalJSON(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encode json: %w", err)
	}
	return string(b), nil
}

func unmarshalJSON(s string, v any) error {
	if err := json.Unmarshal([]byte(s), v); err != nil {
		return fmt.Errorf("decode stored json: %w", err)
	}
	return nil
}

// stringsOrNil normalizes an empty list to nil, so callers see one
// representation of "none" whatever was stored.
func stringsOrNil(v []string) []string {
	if len(v) == 0 {
		return nil
	}
	return v
}

// sqliteCode returns the extended SQLite result code of err, or 0.
func sqliteCode(err error) int {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code()
	}
	return 0
}

func isForeignKeyViolation(err error) bool {
	return sqliteCode(err) == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}

func isUniqueViolation(err error) bool {
	c := sqliteCode(err)
	return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

// Snapshot writes a consistent copy of the database to path (which must not
// exist) while the store stays in use: VACUUM INTO reads one transaction's
// view and writes a compact file.
func (s *Store) Snapshot(ctx context.Context, path string) error {
	// An empty file made first keeps the copy, which holds script keys,
	// private from its first byte (VACUUM INTO accepts an empty target).
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	f.Close()
	// A connection of its own: readers are query_only, which refuses
	// VACUUM INTO, and the write connection must not wait for a copy of
	// the whole file. VACUUM INTO is a read transaction of the source.
	db, err := sql.Open("sqlite", dsn(s.path, connSnapshot))
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("snapshot to %s: %w", path, err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, path); err != nil {
		os.Remove(path)
		return fmt.Errorf("snapshot to %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		return fmt.Errorf("snapshot to %s: %w", path, err)
	}
	return nil
}

// keyRead is the context of a read of a few rows by key on the check-in
// path. The driver watches a context that can end with a goroutine per
// statement, a cost such a read does not need: it is over in microseconds
// and waits for no lock (WAL readers do not; busy_timeout bounds the rest).
func keyRead(ctx context.Context) context.Context { return context.WithoutCancel(ctx) }
