// Package postgres is the PostgreSQL backend of the server store, built on
// pgx. Several `serve` replicas and admin commands may share one database:
// every write that reads before it writes does so in a transaction that
// locks the rows it reads (SELECT ... FOR UPDATE) or in one statement.
//
// PostgreSQL keeps times to the microsecond (SQLite's backend keeps
// nanoseconds), and its text cannot hold U+0000 nor invalid UTF-8: such
// characters in what agents report are stored as U+FFFD. Run output, which
// may hold any byte, is stored as bytea.
package postgres

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jonboulle/clockwork"

	"github.com/mobileatwork/mobileatwork/server/store"
)

var _ store.AllStorage = (*Store)(nil)

// ErrNoSchema is returned by Open, unless told to create it, when the
// database lacks the tenant's schema.
var ErrNoSchema = store.ErrNoSchema

// ErrSchemaExists is returned by Open told to create the schema when the
// database already holds one: another tenant's, which a new tenant's keys
// must not take over.
var ErrSchemaExists = errors.New("the database already holds a Mobile@Work schema")

// openTimeout bounds connecting and migrating, so a server pointed at an
// unreachable database fails at start instead of hanging.
const openTimeout = 30 * time.Second

// Options tune Open.
type Options struct {
	// Create makes the schema in a database that has none (init): one
	// that has it is ErrSchemaExists. Without Create, a database without
	// the schema is ErrNoSchema.
	Create bool
}

// Store is a store.AllStorage kept in a PostgreSQL database, in the
// connection's search_path schema.
type Store struct {
	pool *pgxpool.Pool
	// clock times acquireTimeout.
	clock          clockwork.Clock
	acquireTimeout time.Duration
}

// Open connects to the database dsn names (a URL or key=value string, as
// libpq takes) and brings its schema up to date.
func Open(ctx context.Context, dsn string, o Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's message may quote the DSN, password included: keep it out.
		return nil, errors.New("open store: the PostgreSQL DSN cannot be parsed")
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 10 * time.Second
	}
	if _, ok := cfg.ConnConfig.RuntimeParams["lock_timeout"]; !ok {
		cfg.ConnConfig.RuntimeParams["lock_timeout"] = lockTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, openTimeout)
	defer cancel()
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	s := &Store{pool: pool, clock: clockwork.NewRealClock(), acquireTimeout: acquireTimeout}
	if err := s.migrate(ctx, o.Create); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open store: %w", err)
	}
	return s, nil
}

// Close releases the connections.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// querier is what the pool and a transaction have in common.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// db runs statements with their text arguments made storable (see text),
// and marks a saturated database as store.ErrBusy (see busy).
type db struct{ q querier }

func (d db) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	tag, err := d.q.Exec(ctx, sql, clean(args)...)
	return tag, busy(err)
}

func (d db) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	rows, err := d.q.Query(ctx, sql, clean(args)...)
	if err != nil {
		return nil, busy(err)
	}
	return busyRows{rows}, nil
}

// busyRows marks an error met while reading rows, as a lock timeout of
// SELECT ... FOR UPDATE is.
type busyRows struct{ pgx.Rows }

func (r busyRows) Err() error { return busy(r.Rows.Err()) }

func (d db) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return busyRow{d.q.QueryRow(ctx, sql, clean(args)...)}
}

type busyRow struct{ pgx.Row }

func (r busyRow) Scan(dest ...any) error { return busy(r.Row.Scan(dest...)) }

// sendBatch runs b's statements, whose arguments its caller cleaned.
func (d db) sendBatch(ctx context.Context, b *pgx.Batch) error {
	return busy(d.q.SendBatch(ctx, b).Close())
}

// db runs each statement on a connection of its own.
func (s *Store) db() db { return db{pooled{s}} }

// tx runs fn in a read-write transaction, rolled back when fn fails and
// run again when the database chose it as a deadlock victim.
func (s *Store) tx(ctx context.Context, fn func(db) error) error {
	return s.txOpts(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error { return fn(db{tx}) })
}

func clean(args []any) []any {
	for i, a := range args {
		if s, ok := a.(string); ok {
			args[i] = text(s)
		}
	}
	return args
}

// text makes s storable in a text column: PostgreSQL refuses U+0000 and
// invalid UTF-8, which a Go string may hold; each becomes U+FFFD.
func text(s string) string {
	if utf8.ValidString(s) && !strings.ContainsRune(s, 0) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// marshalJSON encodes v for a jsonb column, which refuses the escape
// \u0000: it becomes \ufffd, as in text columns.
func marshalJSON(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encode json: %w", err)
	}
	if !bytes.Contains(b, []byte(`\u0000`)) {
		return string(b), nil
	}
	// A backslash in encoded JSON always starts an escape, so walking the
	// escapes finds each \u0000 and never a \\u0000.
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' || i+1 >= len(b) {
			out = append(out, b[i])
			continue
		}
		if bytes.HasPrefix(b[i:], []byte(`\u0000`)) {
			out = append(out, `\ufffd`...)
			i += len(`\u0000`) - 1
			continue
		}
		out = append(out, b[i], b[i+1])
		i++
	}
	return string(out), nil
}

func unmarshalJSON(b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decode stored json: %w", err)
	}
	return nil
}

// nullTime stores the zero time as NULL, for optional instants.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// fromNull reads an optional instant; NULL is the zero time.
func fromNull(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

func nonNil(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

func stringsOrNil(v []string) []string {
	if len(v) == 0 {
		return nil
	}
	return v
}

// pgCode returns the SQLSTATE of err, or "".
func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

func isUniqueViolation(err error) bool     { return pgCode(err) == "23505" }
func isForeignKeyViolation(err error) bool { return pgCode(err) == "23503" }

// rowsAffected turns a command that touched no row into store.ErrNotFound.
func rowsAffected(tag pgconn.CommandTag, err error) error {
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}

// notFound maps pgx's "no rows" to store.ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	return err
}
