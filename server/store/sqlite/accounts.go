package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/mobileatwork/mobileatwork/server/store"
)

// accountsSchema keeps administrator accounts, API tokens, console
// sessions and the audit log, which triggers keep append-only.
const accountsSchema = `
CREATE TABLE accounts (
	name             TEXT PRIMARY KEY,
	role             TEXT NOT NULL,
	password_hash    TEXT NOT NULL,
	created_at       TEXT NOT NULL,
	failed_logins    INTEGER NOT NULL DEFAULT 0,
	first_failure_at TEXT,
	locked_until     TEXT,
	last_login_at    TEXT
) WITHOUT ROWID;

CREATE TABLE api_tokens (
	id           TEXT PRIMARY KEY,
	name         TEXT NOT NULL UNIQUE,
	role         TEXT NOT NULL,
	hash         BLOB NOT NULL UNIQUE,
	created_by   TEXT NOT NULL DEFAULT '',
	created_at   TEXT NOT NULL,
	expires_at   TEXT,
	last_used_at TEXT,
	revoked_at   TEXT
);
CREATE INDEX api_tokens_created_at ON api_tokens (created_at);

CREATE TABLE sessions (
	hash         BLOB PRIMARY KEY,
	account      TEXT NOT NULL REFERENCES accounts (name) ON DELETE CASCADE,
	csrf         TEXT NOT NULL,
	created_at   TEXT NOT NULL,
	last_seen_at TEXT NOT NULL,
	expires_at   TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_account ON sessions (account);

CREATE TABLE audit (
	seq        INTEGER PRIMARY KEY AUTOINCREMENT,
	at         TEXT NOT NULL,
	actor      TEXT NOT NULL,
	actor_kind TEXT NOT NULL,
	role       TEXT NOT NULL DEFAULT '',
	source     TEXT NOT NULL DEFAULT '',
	action     TEXT NOT NULL,
	object     TEXT NOT NULL DEFAULT '',
	summary    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_at ON audit (at);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
`

const accountColumns = `name, role, password_hash, created_at, failed_logins, first_failure_at, locked_until, last_login_at`

// CreateAccount stores a new account; a taken name is store.ErrExists.
func (s *Store) CreateAccount(ctx context.Context, a store.Account) error {
	res, err := s.db.ExecContext(ctx, `INSERT INTO accounts (`+accountColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT DO NOTHING`, a.Name, a.Role, a.PasswordHash, formatTime(a.CreatedAt), a.FailedLogins,
		nullTime(a.FirstFailureAt), nullTime(a.LockedUntil), nullTime(a.LastLoginAt))
	if err != nil {
		return fmt.Errorf("create account: %w", busy(err))
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("create account: %w", err)
	} else if n == 0 {
		return fmt.Errorf("create account %s: %w", a.Name, store.ErrExists)
	}
	return nil
}

// Account returns one account.
func (s *Store) Account(ctx context.Context, name string) (store.Account, error) {
	a, err := scanAccount(s.read.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Account{}, fmt.Errorf("read account %s: %w", name, err)
	}
	return a, nil
}

// Accounts returns every account by name.
func (s *Store) Accounts(ctx context.Context) ([]store.Account, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+accountColumns+` FROM accounts ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	defer rows.Close()
	var out []store.Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, fmt.Errorf("list accounts: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	return out, nil
}

// UpdateAccount changes an account in one write transaction, which
// SQLite takes alone: concurrent updates cannot both see the old row.
func (s *Store) UpdateAccount(ctx context.Context, name string, fn func(*store.Account) error) (store.Account, error) {
	var a store.Account
	err := s.tx(ctx, func(tx *sql.Tx) error {
		before, err := scanAccount(tx.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE name = ?`, name))
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		} else if err != nil {
			return err
		}
		a = before
		if err := fn(&a); err != nil {
			return err
		}
		a.Name, a.CreatedAt = before.Name, before.CreatedAt
		if before.Role == store.RoleAdmin && a.Role != store.RoleAdmin {
			if err := otherAdmin(ctx, tx, name); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `UPDATE accounts SET role = ?, password_hash = ?, failed_logins = ?, first_failure_at = ?,
	locked_until = ?, last_login_at = ? WHERE name = ?`, a.Role, a.PasswordHash, a.FailedLogins, nullTime(a.FirstFailureAt),
			nullTime(a.LockedUntil), nullTime(a.LastLoginAt), name)
		return err
	})
	if err != nil {
		return store.Account{}, fmt.Errorf("update account %s: %w", name, err)
	}
	return a, nil
}

// otherAdmin is store.ErrLastAdmin unless an admin other than name exists.
func otherAdmin(ctx context.Context, tx *sql.Tx, name string) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM accounts WHERE role = ? AND name <> ?`, store.RoleAdmin, name).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return store.ErrLastAdmin
	}
	return nil
}

// DeleteAccount removes an account; its sessions go with it.
func (s *Store) DeleteAccount(ctx context.Context, name string) (store.Account, error) {
	var a store.Account
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		a, err = scanAccount(tx.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE name = ?`, name))
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		} else if err != nil {
			return err
		}
		if a.Role == store.RoleAdmin {
			if err := otherAdmin(ctx, tx, name); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM accounts WHERE name = ?`, name)
		return err
	})
	if err != nil {
		return store.Account{}, fmt.Errorf("delete account %s: %w", name, err)
	}
	return a, nil
}

func scanAccount(r scanner) (store.Account, error) {
	var (
		a                    store.Account
		created              string
		first, locked, login sql.NullString
	)
	if err := r.Scan(&a.Name, &a.Role, &a.PasswordHash, &created, &a.FailedLogins, &first, &locked, &login); err != nil {
		return store.Account{}, err
	}
	var err error
	if a.CreatedAt, err = parseTime(created); err != nil {
		return store.Account{}, err
	}
	if a.FirstFailureAt, err = parseNullTime(first); err != nil {
		return store.Account{}, err
	}
	if a.LockedUntil, err = parseNullTime(locked); err != nil {
		return store.Account{}, err
	}
	a.LastLoginAt, err = parseNullTime(login)
	return a, err
}

const apiTokenColumns = `id, name, role, hash, created_by, created_at, expires_at, last_used_at, revoked_at`

// CreateAPIToken stores a token; a taken id, name or hash is
// store.ErrExists.
func (s *Store) CreateAPIToken(ctx context.Context, t store.APIToken) error {
	if t.ID == "" || len(t.Hash) == 0 {
		return errors.New("create api token: empty id or hash")
	}
	res, err := s.db.ExecContext(ctx, `INSERT INTO api_tokens (`+apiTokenColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, NULL)
ON CONFLICT DO NOTHING`, t.ID, t.Name, t.Role, t.Hash, t.CreatedBy, formatTime(t.CreatedAt), nullTime(t.ExpiresAt))
	if err != nil {
		return fmt.Errorf("create api token: %w", busy(err))
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("create api token: %w", err)
	} else if n == 0 {
		return fmt.Errorf("create api token %s: %w", t.Name, store.ErrExists)
	}
	return nil
}

// APITokenByHash returns the token whose secret has this hash.
func (s *Store) APITokenByHash(ctx context.Context, hash []byte) (store.APIToken, error) {
	t, err := scanAPIToken(s.read.QueryRowContext(ctx, `SELECT `+apiTokenColumns+` FROM api_tokens WHERE hash = ?`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.APIToken{}, fmt.Errorf("read api token: %w", err)
	}
	return t, nil
}

// APITokens returns every token, the oldest first.
func (s *Store) APITokens(ctx context.Context) ([]store.APIToken, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+apiTokenColumns+` FROM api_tokens ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list api tokens: %w", err)
	}
	defer rows.Close()
	var out []store.APIToken
	for rows.Next() {
		t, err := scanAPIToken(rows)
		if err != nil {
			return nil, fmt.Errorf("list api tokens: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list api tokens: %w", err)
	}
	return out, nil
}

// RevokeAPIToken marks the named token revoked, keeping a first
// revocation time.
func (s *Store) RevokeAPIToken(ctx context.Context, name string, at time.Time) (store.APIToken, error) {
	var t store.APIToken
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL`, formatTime(at), name); err != nil {
			return err
		}
		var err error
		t, err = scanAPIToken(tx.QueryRowContext(ctx, `SELECT `+apiTokenColumns+` FROM api_tokens WHERE name = ?`, name))
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		return err
	})
	if err != nil {
		return store.APIToken{}, fmt.Errorf("revoke api token %s: %w", name, err)
	}
	return t, nil
}

// TouchAPIToken records a use of the token.
func (s *Store) TouchAPIToken(ctx context.Context, id string, at, notBefore time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)`,
		formatTime(at), id, formatTime(notBefore))
	if err != nil {
		return fmt.Errorf("touch api token %s: %w", id, busy(err))
	}
	return nil
}

func scanAPIToken(r scanner) (store.APIToken, error) {
	var (
		t                      store.APIToken
		created                string
		expires, used, revoked sql.NullString
	)
	if err := r.Scan(&t.ID, &t.Name, &t.Role, &t.Hash, &t.CreatedBy, &created, &expires, &used, &revoked); err != nil {
		return store.APIToken{}, err
	}
	var err error
	if t.CreatedAt, err = parseTime(created); err != nil {
		return store.APIToken{}, err
	}
	if t.ExpiresAt, err = parseNullTime(expires); err != nil {
		return store.APIToken{}, err
	}
	if t.LastUsedAt, err = parseNullTime(used); err != nil {
		return store.APIToken{}, err
	}
	t.RevokedAt, err = parseNullTime(revoked)
	return t, err
}

const sessionColumns = `hash, account, csrf, created_at, last_seen_at, expires_at`

// CreateSession stores a session for an existing account.
func (s *Store) CreateSession(ctx context.Context, se store.Session) error {
	res, err := s.db.ExecContext(ctx, `INSERT INTO sessions (`+sessionColumns+`) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		se.Hash, se.Account, se.CSRF, formatTime(se.CreatedAt), formatTime(se.LastSeenAt), formatTime(se.ExpiresAt))
	if isForeignKeyViolation(err) {
		return fmt.Errorf("create session: account %s: %w", se.Account, store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("create session: %w", busy(err))
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("create session: %w", err)
	} else if n == 0 {
		return fmt.Errorf("create session: %w", store.ErrExists)
	}
	return nil
}

// Session returns the session whose secret has this hash.
func (s *Store) Session(ctx context.Context, hash []byte) (store.Session, error) {
	var (
		se                     store.Session
		created, seen, expires string
	)
	err := s.read.QueryRowContext(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE hash = ?`, hash).
		Scan(&se.Hash, &se.Account, &se.CSRF, &created, &seen, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Session{}, fmt.Errorf("read session: %w", err)
	}
	if se.CreatedAt, err = parseTime(created); err != nil {
		return store.Session{}, err
	}
	if se.LastSeenAt, err = parseTime(seen); err != nil {
		return store.Session{}, err
	}
	if se.ExpiresAt, err = parseTime(expires); err != nil {
		return store.Session{}, err
	}
	return se, nil
}

// TouchSession records a request of the session.
func (s *Store) TouchSession(ctx context.Context, hash []byte, at, notBefore time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE sessions SET last_seen_at = ? WHERE hash = ? AND last_seen_at < ?`,
		formatTime(at), hash, formatTime(notBefore))
	if err != nil {
		return fmt.Errorf("touch session: %w", busy(err))
	}
	return nil
}

// DeleteSession ends one session.
func (s *Store) DeleteSession(ctx context.Context, hash []byte) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE hash = ?`, hash)
	if err != nil {
		return fmt.Errorf("delete session: %w", busy(err))
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("delete session: %w", err)
	} else if n == 0 {
		return fmt.Errorf("delete session: %w", store.ErrNotFound)
	}
	return nil
}

// DeleteSessions ends every session of the account.
func (s *Store) DeleteSessions(ctx context.Context, account string) (int, error) {
	return s.deleteSessions(ctx, `DELETE FROM sessions WHERE account = ?`, account)
}

// PurgeSessions deletes the sessions that ended.
func (s *Store) PurgeSessions(ctx context.Context, now, idleBefore time.Time) (int, error) {
	return s.deleteSessions(ctx, `DELETE FROM sessions WHERE expires_at <= ? OR last_seen_at < ?`, formatTime(now), formatTime(idleBefore))
}

func (s *Store) deleteSessions(ctx context.Context, query string, args ...any) (int, error) {
	res, err := s.db.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, fmt.Errorf("delete sessions: %w", busy(err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("delete sessions: %w", err)
	}
	return int(n), nil
}

const auditColumns = `seq, at, actor, actor_kind, role, source, action, object, summary`

// AppendAudit adds an entry; AUTOINCREMENT never hands out a seq twice.
func (s *Store) AppendAudit(ctx context.Context, e store.AuditEntry) (store.AuditEntry, error) {
	err := s.db.QueryRowContext(ctx, `INSERT INTO audit (at, actor, actor_kind, role, source, action, object, summary)
VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq`, formatTime(e.At), e.Actor, e.ActorKind, e.Role, e.Source, e.Action, e.Object, e.Summary).Scan(&e.Seq)
	if err != nil {
		return store.AuditEntry{}, fmt.Errorf("append audit entry: %w", busy(err))
	}
	e.At = e.At.UTC()
	return e, nil
}

// AuditLog returns the entries f matches, the newest first.
func (s *Store) AuditLog(ctx context.Context, f store.AuditFilter) ([]store.AuditEntry, error) {
	q := `SELECT ` + auditColumns + ` FROM audit WHERE 1 = 1`
	var args []any
	if !f.Since.IsZero() {
		q += ` AND at >= ?`
		args = append(args, formatTime(f.Since))
	}
	if f.Actor != "" {
		q += ` AND actor = ?`
		args = append(args, f.Actor)
	}
	if f.ActionPrefix != "" {
		q += ` AND substr(action, 1, ?) = ?`
		args = append(args, utf8.RuneCountInString(f.ActionPrefix), f.ActionPrefix)
	}
	if f.Before > 0 {
		q += ` AND seq < ?`
		args = append(args, f.Before)
	}
	q += ` ORDER BY seq DESC`
	if f.Limit > 0 {
		q += ` LIMIT ?`
		args = append(args, f.Limit)
	}
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("read audit log: %w", err)
	}
	defer rows.Close()
	var out []store.AuditEntry
	for rows.Next() {
		var (
			e  store.AuditEntry
			at string
		)
		if err := rows.Scan(&e.Seq, &at, &e.Actor, &e.ActorKind, &e.Role, &e.Source, &e.Action, &e.Object, &e.Summary); err != nil {
			return nil, fmt.Errorf("read audit log: %w", err)
		}
		if e.At, err = parseTime(at); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read audit log: %w", err)
	}
	return out, nil
}
