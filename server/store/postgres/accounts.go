package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mobileatwork/mobileatwork/server/store"
)

// accountsSchema keeps administrator accounts, API tokens, console
// sessions and the audit log, which a trigger keeps append-only.
const accountsSchema = `
CREATE TABLE accounts (
	name             text COLLATE "C" PRIMARY KEY,
	role             text NOT NULL,
	password_hash    text NOT NULL,
	created_at       timestamptz NOT NULL,
	failed_logins    integer NOT NULL DEFAULT 0,
	first_failure_at timestamptz,
	locked_until     timestamptz,
	last_login_at    timestamptz
);

CREATE TABLE api_tokens (
	id           text COLLATE "C" PRIMARY KEY,
	name         text COLLATE "C" NOT NULL UNIQUE,
	role         text NOT NULL,
	hash         bytea NOT NULL UNIQUE,
	created_by   text NOT NULL DEFAULT '',
	created_at   timestamptz NOT NULL,
	expires_at   timestamptz,
	last_used_at timestamptz,
	revoked_at   timestamptz
);
CREATE INDEX api_tokens_created_at ON api_tokens (created_at, id);

CREATE TABLE sessions (
	hash         bytea PRIMARY KEY,
	account      text COLLATE "C" NOT NULL REFERENCES accounts (name) ON DELETE CASCADE,
	csrf         text NOT NULL,
	created_at   timestamptz NOT NULL,
	last_seen_at timestamptz NOT NULL,
	expires_at   timestamptz NOT NULL
);
CREATE INDEX sessions_account ON sessions (account);

CREATE TABLE audit (
	seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at         timestamptz NOT NULL,
	actor      text NOT NULL,
	actor_kind text NOT NULL,
	role       text NOT NULL DEFAULT '',
	source     text NOT NULL DEFAULT '',
	action     text COLLATE "C" NOT NULL,
	object     text NOT NULL DEFAULT '',
	summary    text NOT NULL DEFAULT ''
);
CREATE INDEX audit_at ON audit (at);

CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'the audit log is append-only';
END $$;
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit
	FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
	FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
`

const accountColumns = `name, role, password_hash, created_at, failed_logins, first_failure_at, locked_until, last_login_at`

// CreateAccount stores a new account; a taken name is store.ErrExists.
func (s *Store) CreateAccount(ctx context.Context, a store.Account) error {
	tag, err := s.db().Exec(ctx, `INSERT INTO accounts (`+accountColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT DO NOTHING`, a.Name, a.Role, a.PasswordHash, a.CreatedAt, a.FailedLogins,
		nullTime(a.FirstFailureAt), nullTime(a.LockedUntil), nullTime(a.LastLoginAt))
	if err != nil {
		return fmt.Errorf("create account: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("create account %s: %w", a.Name, store.ErrExists)
	}
	return nil
}

// Account returns one account.
func (s *Store) Account(ctx context.Context, name string) (store.Account, error) {
	a, err := scanAccount(s.db().QueryRow(ctx, `SELECT `+accountColumns+` FROM accounts WHERE name = $1`, name))
	if err != nil {
		return store.Account{}, fmt.Errorf("read account %s: %w", name, notFound(err))
	}
	return a, nil
}

// Accounts returns every account by name.
func (s *Store) Accounts(ctx context.Context) ([]store.Account, error) {
	rows, err := s.db().Query(ctx, `SELECT `+accountColumns+` FROM accounts ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Account, error) { return scanAccount(r) })
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	return out, nil
}

// lockAdmins locks the admins' rows, in one order for every caller, so
// that two replicas demoting or removing two admins at once take turns and
// the second sees the first's change.
func lockAdmins(ctx context.Context, q db) error {
	rows, err := q.Query(ctx, `SELECT name FROM accounts WHERE role = $1 ORDER BY name FOR UPDATE`, store.RoleAdmin)
	if err != nil {
		return err
	}
	rows.Close()
	return rows.Err()
}

// otherAdmin is store.ErrLastAdmin unless an admin other than name exists.
func otherAdmin(ctx context.Context, q db, name string) error {
	var n int
	if err := q.QueryRow(ctx, `SELECT count(*) FROM accounts WHERE role = $1 AND name <> $2`, store.RoleAdmin, name).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return store.ErrLastAdmin
	}
	return nil
}

// UpdateAccount changes an account with its row locked, so concurrent
// logins on other replicas count every failure.
func (s *Store) UpdateAccount(ctx context.Context, name string, fn func(*store.Account) error) (store.Account, error) {
	var a store.Account
	err := s.tx(ctx, func(q db) error {
		if err := lockAdmins(ctx, q); err != nil {
			return err
		}
		before, err := scanAccount(q.QueryRow(ctx, `SELECT `+accountColumns+` FROM accounts WHERE name = $1 FOR UPDATE`, name))
		if err != nil {
			return notFound(err)
		}
		a = before
		if err := fn(&a); err != nil {
			return err
		}
		a.Name, a.CreatedAt = before.Name, before.CreatedAt
		if before.Role == store.RoleAdmin && a.Role != store.RoleAdmin {
			if err := otherAdmin(ctx, q, name); err != nil {
				return err
			}
		}
		_, err = q.Exec(ctx, `UPDATE accounts SET role = $1, password_hash = $2, failed_logins = $3, first_failure_at = $4,
	locked_until = $5, last_login_at = $6 WHERE name = $7`, a.Role, a.PasswordHash, a.FailedLogins, nullTime(a.FirstFailureAt),
			nullTime(a.LockedUntil), nullTime(a.LastLoginAt), name)
		return err
	})
	if err != nil {
		return store.Account{}, fmt.Errorf("update account %s: %w", name, err)
	}
	return a, nil
}

// DeleteAccount removes an account; its sessions go with it.
func (s *Store) DeleteAccount(ctx context.Context, name string) (store.Account, error) {
	var a store.Account
	err := s.tx(ctx, func(q db) error {
		if err := lockAdmins(ctx, q); err != nil {
			return err
		}
		var err error
		if a, err = scanAccount(q.QueryRow(ctx, `SELECT `+accountColumns+` FROM accounts WHERE name = $1 FOR UPDATE`, name)); err != nil {
			return notFound(err)
		}
		if a.Role == store.RoleAdmin {
			if err := otherAdmin(ctx, q, name); err != nil {
				return err
			}
		}
		_, err = q.Exec(ctx, `DELETE FROM accounts WHERE name = $1`, name)
		return err
	})
	if err != nil {
		return store.Account{}, fmt.Errorf("delete account %s: %w", name, err)
	}
	return a, nil
}

func scanAccount(r pgx.Row) (store.Account, error) {
	var (
		a                    store.Account
		first, locked, login *time.Time
	)
	if err := r.Scan(&a.Name, &a.Role, &a.PasswordHash, &a.CreatedAt, &a.FailedLogins, &first, &locked, &login); err != nil {
		return store.Account{}, err
	}
	a.CreatedAt = a.CreatedAt.UTC()
	a.FirstFailureAt, a.LockedUntil, a.LastLoginAt = fromNull(first), fromNull(locked), fromNull(login)
	return a, nil
}

const apiTokenColumns = `id, name, role, hash, created_by, created_at, expires_at, last_used_at, revoked_at`

// CreateAPIToken stores a token; a taken id, name or hash is
// store.ErrExists.
func (s *Store) CreateAPIToken(ctx context.Context, t store.APIToken) error {
	if t.ID == "" || len(t.Hash) == 0 {
		return errors.New("create api token: empty id or hash")
	}
	tag, err := s.db().Exec(ctx, `INSERT INTO api_tokens (`+apiTokenColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, NULL)
ON CONFLICT DO NOTHING`, t.ID, t.Name, t.Role, t.Hash, t.CreatedBy, t.CreatedAt, nullTime(t.ExpiresAt))
	if err != nil {
		return fmt.Errorf("create api token: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("create api token %s: %w", t.Name, store.ErrExists)
	}
	return nil
}

// APITokenByHash returns the token whose secret has this hash.
func (s *Store) APITokenByHash(ctx context.Context, hash []byte) (store.APIToken, error) {
	t, err := scanAPIToken(s.db().QueryRow(ctx, `SELECT `+apiTokenColumns+` FROM api_tokens WHERE hash = $1`, hash))
	if err != nil {
		return store.APIToken{}, fmt.Errorf("read api token: %w", notFound(err))
	}
	return t, nil
}

// APITokens returns every token, the oldest first.
func (s *Store) APITokens(ctx context.Context) ([]store.APIToken, error) {
	rows, err := s.db().Query(ctx, `SELECT `+apiTokenColumns+` FROM api_tokens ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list api tokens: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.APIToken, error) { return scanAPIToken(r) })
	if err != nil {
		return nil, fmt.Errorf("list api tokens: %w", err)
	}
	return out, nil
}

// RevokeAPIToken marks the named token revoked, keeping a first
// revocation time.
func (s *Store) RevokeAPIToken(ctx context.Context, name string, at time.Time) (store.APIToken, error) {
	var t store.APIToken
	err := s.tx(ctx, func(q db) error {
		if _, err := q.Exec(ctx, `UPDATE api_tokens SET revoked_at = $1 WHERE name = $2 AND revoked_at IS NULL`, at, name); err != nil {
			return err
		}
		var err error
		t, err = scanAPIToken(q.QueryRow(ctx, `SELECT `+apiTokenColumns+` FROM api_tokens WHERE name = $1`, name))
		return notFound(err)
	})
	if err != nil {
		return store.APIToken{}, fmt.Errorf("revoke api token %s: %w", name, err)
	}
	return t, nil
}

// TouchAPIToken records a use of the token.
func (s *Store) TouchAPIToken(ctx context.Context, id string, at, notBefore time.Time) error {
	if _, err := s.db().Exec(ctx, `UPDATE api_tokens SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $3)`,
		at, id, notBefore); err != nil {
		return fmt.Errorf("touch api token %s: %w", id, err)
	}
	return nil
}

func scanAPIToken(r pgx.Row) (store.APIToken, error) {
	var (
		t                      store.APIToken
		expires, used, revoked *time.Time
	)
	if err := r.Scan(&t.ID, &t.Name, &t.Role, &t.Hash, &t.CreatedBy, &t.CreatedAt, &expires, &used, &revoked); err != nil {
		return store.APIToken{}, err
	}
	t.CreatedAt = t.CreatedAt.UTC()
	t.ExpiresAt, t.LastUsedAt, t.RevokedAt = fromNull(expires), fromNull(used), fromNull(revoked)
	return t, nil
}

const sessionColumns = `hash, account, csrf, created_at, last_seen_at, expires_at`

// CreateSession stores a session for an existing account.
func (s *Store) CreateSession(ctx context.Context, se store.Session) error {
	tag, err := s.db().Exec(ctx, `INSERT INTO sessions (`+sessionColumns+`) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
		se.Hash, se.Account, se.CSRF, se.CreatedAt, se.LastSeenAt, se.ExpiresAt)
	if isForeignKeyViolation(err) {
		return fmt.Errorf("create session: account %s: %w", se.Account, store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("create session: %w", store.ErrExists)
	}
	return nil
}

// Session returns the session whose secret has this hash.
func (s *Store) Session(ctx context.Context, hash []byte) (store.Session, error) {
	var se store.Session
	err := s.db().QueryRow(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE hash = $1`, hash).
		Scan(&se.Hash, &se.Account, &se.CSRF, &se.CreatedAt, &se.LastSeenAt, &se.ExpiresAt)
	if err != nil {
		return store.Session{}, fmt.Errorf("read session: %w", notFound(err))
	}
	se.CreatedAt, se.LastSeenAt, se.ExpiresAt = se.CreatedAt.UTC(), se.LastSeenAt.UTC(), se.ExpiresAt.UTC()
	return se, nil
}

// TouchSession records a request of the session.
func (s *Store) TouchSession(ctx context.Context, hash []byte, at, notBefore time.Time) error {
	if _, err := s.db().Exec(ctx, `UPDATE sessions SET last_seen_at = $1 WHERE hash = $2 AND last_seen_at < $3`, at, hash, notBefore); err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	return nil
}

// DeleteSession ends one session.
func (s *Store) DeleteSession(ctx context.Context, hash []byte) error {
	if err := rowsAffected(s.db().Exec(ctx, `DELETE FROM sessions WHERE hash = $1`, hash)); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteSessions ends every session of the account.
func (s *Store) DeleteSessions(ctx context.Context, account string) (int, error) {
	tag, err := s.db().Exec(ctx, `DELETE FROM sessions WHERE account = $1`, account)
	if err != nil {
		return 0, fmt.Errorf("delete sessions: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// PurgeSessions deletes the sessions that ended.
func (s *Store) PurgeSessions(ctx context.Context, now, idleBefore time.Time) (int, error) {
	tag, err := s.db().Exec(ctx, `DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at < $2`, now, idleBefore)
	if err != nil {
		return 0, fmt.Errorf("purge sessions: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

const auditColumns = `seq, at, actor, actor_kind, role, source, action, object, summary`

// AppendAudit adds an entry; the identity never hands out a seq twice.
func (s *Store) AppendAudit(ctx context.Context, e store.AuditEntry) (store.AuditEntry, error) {
	err := s.db().QueryRow(ctx, `INSERT INTO audit (at, actor, actor_kind, role, source, action, object, summary)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING seq`, e.At, e.Actor, e.ActorKind, e.Role, e.Source, e.Action, e.Object, e.Summary).Scan(&e.Seq)
	if err != nil {
		return store.AuditEntry{}, fmt.Errorf("append audit entry: %w", err)
	}
	e.At = e.At.UTC()
	return e, nil
}

// AuditLog returns the entries f matches, the newest first.
func (s *Store) AuditLog(ctx context.Context, f store.AuditFilter) ([]store.AuditEntry, error) {
	q := `SELECT ` + auditColumns + ` FROM audit WHERE true`
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if !f.Since.IsZero() {
		q += ` AND at >= ` + arg(f.Since)
	}
	if f.Actor != "" {
		q += ` AND actor = ` + arg(f.Actor)
	}
	if f.ActionPrefix != "" {
		q += ` AND starts_with(action, ` + arg(f.ActionPrefix) + `)`
	}
	if f.Before > 0 {
		q += ` AND seq < ` + arg(f.Before)
	}
	q += ` ORDER BY seq DESC`
	if f.Limit > 0 {
		q += ` LIMIT ` + arg(f.Limit)
	}
	rows, err := s.db().Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("read audit log: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.AuditEntry, error) {
		var e store.AuditEntry
		err := r.Scan(&e.Seq, &e.At, &e.Actor, &e.ActorKind, &e.Role, &e.Source, &e.Action, &e.Object, &e.Summary)
		e.At = e.At.UTC()
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("read audit log: %w", err)
	}
	return out, nil
}
