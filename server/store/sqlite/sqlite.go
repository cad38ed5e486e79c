// Package sqlite is the SQLite backend of the server store, built on the pure
// Go driver modernc.org/sqlite so the server cross-compiles without cgo.
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
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/mobileatwork/mobileatwork/server/store"
)

var _ store.AllStorage = (*Store)(nil)

// busyTimeout is how long a statement waits for a lock held by another
// connection or process before failing. Admin commands are short, so a few
// seconds is generous without hiding a stuck process for long.
const busyTimeout = 10 * time.Second

// Store is a store.AllStorage kept in one SQLite file.
type Store struct {
	db *sql.DB
}

// Open opens the database at path, creating it with mode 0600 if it does not
// exist, and brings its schema up to date. The file holds script keys, so an
// existing file readable by others is tightened to 0600 as well.
func Open(path string) (*Store, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	if err := ensurePrivateFile(abs); err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	db, err := sql.Open("sqlite", dsn(abs))
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	s := &Store{db: db}
	ctx, cancel := context.WithTimeout(context.Background(), 2*busyTimeout)
	defer cancel()
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	return s, nil
}

// Close releases the database. It does not wait for other processes.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
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

// dsn builds the connection string. Every pragma is applied to each new
// connection of the pool, busy_timeout first. synchronous=FULL because the
// server acknowledges results as durable once stored.
func dsn(path string) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Set("_txlock", "immediate")
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(path), RawQuery: q.Encode()}
	return u.String()
}

// tx runs fn in a read-write transaction, which takes the write lock at BEGIN.
func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
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
	if _, err := s.db.ExecContext(ctx, `VACUUM INTO ?`, path); err != nil {
		os.Remove(path)
		return fmt.Errorf("snapshot to %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		return fmt.Errorf("snapshot to %s: %w", path, err)
	}
	return nil
}
