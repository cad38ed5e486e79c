package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/store"
	"github.com/mobileatwork/mobileatwork/server/store/internal/rows"
)

// Every field of protocol.Result has its own column, so results can be
// queried with the sqlite3 shell as well as through the store.
const resultColumns = `run_id, device_id, assignment_id, assignment_version, script_id, occurrence, status,
exit_code, started_at, finished_at, duration_ms, stdout, stderr, stdout_bytes, stderr_bytes, truncated,
invalid_utf8, error, received_at, script_sha256, waiting`

// resultRead are the columns a result is written and read with:
// resultColumns and those later migrations added.
const resultRead = resultColumns + `, attempt, retry_at`

// PutResult stores r unless its run id is already stored, and reports
// whether it was new. The first delivery wins: agents resend a result until
// it is acknowledged, and a resend never replaces what was stored.
//
// It returns once the group commit that carried the result is durable, so
// a result is acknowledged to the agent only when it survives a crash.
func (s *Store) PutResult(ctx context.Context, r protocol.Result, receivedAt time.Time) (bool, error) {
	var n int64
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `
INSERT INTO results (`+resultRead+`)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (run_id) DO NOTHING`,
			r.RunID, r.DeviceID, r.AssignmentID, r.AssignmentVersion, r.ScriptID, nullTime(r.Occurrence), r.Status,
			r.ExitCode, nullTime(r.StartedAt), nullTime(r.FinishedAt), r.DurationMS, r.Stdout, r.Stderr,
			r.StdoutBytes, r.StderrBytes, r.Truncated, r.InvalidUTF8, r.Error, formatTime(receivedAt), r.ScriptSHA256, r.Waiting,
			r.Attempt, nullTime(r.RetryAt))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return false, fmt.Errorf("put result %s: %w", r.RunID, err)
	}
	return n == 1, nil
}

// Results returns the results that match f, the first received first; ties
// keep the order in which they were stored.
func (s *Store) Results(ctx context.Context, f store.ResultFilter) ([]store.StoredResult, error) {
	return rows.Collect(func(fn func(store.StoredResult) error) error { return s.EachResult(ctx, f, fn) })
}

// EachResult reads the results Results returns one row at a time. Each
// filter has an index that yields rows in (received_at, rowid) order, so
// without a limit SQLite walks one and sorts nothing.
func (s *Store) EachResult(ctx context.Context, f store.ResultFilter, fn func(store.StoredResult) error) error {
	q, args, err := rows.ResultSelect(f, resultRead, "rowid", func(int) string { return "?" }, func(t time.Time) any { return formatTime(t) })
	if err != nil {
		return err
	}
	rs, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("list results: %w", err)
	}
	defer rs.Close()
	return rows.Each(rs, func() (store.StoredResult, error) { return scanResult(rs) }, fn)
}

// PurgeResults deletes up to max of the oldest results received before
// before, in one write of the group-commit writer: a bounded batch keeps
// the writer free for check-ins between batches.
func (s *Store) PurgeResults(ctx context.Context, before time.Time, max int) (int, error) {
	if err := rows.PurgeBatch(max); err != nil {
		return 0, err
	}
	var n int64
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM results WHERE rowid IN (
	SELECT rowid FROM results WHERE received_at < ? ORDER BY received_at, rowid LIMIT ?)`, formatTime(before), max)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("purge results before %s: %w", before.UTC().Format(time.RFC3339), err)
	}
	return int(n), nil
}

func scanResult(r scanner) (store.StoredResult, error) {
	var (
		sr                            store.StoredResult
		occurrence, started, finished sql.NullString
		retryAt                       sql.NullString
		received                      string
	)
	if err := r.Scan(&sr.RunID, &sr.DeviceID, &sr.AssignmentID, &sr.AssignmentVersion, &sr.ScriptID, &occurrence,
		&sr.Status, &sr.ExitCode, &started, &finished, &sr.DurationMS, &sr.Stdout, &sr.Stderr,
		&sr.StdoutBytes, &sr.StderrBytes, &sr.Truncated, &sr.InvalidUTF8, &sr.Error, &received, &sr.ScriptSHA256, &sr.Waiting,
		&sr.Attempt, &retryAt); err != nil {
		return store.StoredResult{}, err
	}
	var err error
	if sr.Occurrence, err = parseNullTime(occurrence); err != nil {
		return store.StoredResult{}, err
	}
	if sr.StartedAt, err = parseNullTime(started); err != nil {
		return store.StoredResult{}, err
	}
	if sr.FinishedAt, err = parseNullTime(finished); err != nil {
		return store.StoredResult{}, err
	}
	if sr.ReceivedAt, err = parseTime(received); err != nil {
		return store.StoredResult{}, err
	}
	if sr.RetryAt, err = parseNullTime(retryAt); err != nil {
		return store.StoredResult{}, err
	}
	return sr, nil
}

// latestChunk bounds the configuration ids bound in one query, well below
// SQLite's limit on parameters.
const latestChunk = 500

// LatestResults reads the newest result of each configuration for the
// device through results_device_assignment, a few hundred configurations
// a query.
func (s *Store) LatestResults(ctx context.Context, deviceID string, configIDs []string) (map[string]store.StoredResult, error) {
	out := map[string]store.StoredResult{}
	for len(configIDs) > 0 {
		n := min(len(configIDs), latestChunk)
		chunk := configIDs[:n]
		configIDs = configIDs[n:]
		args := []any{deviceID}
		for _, id := range chunk {
			args = append(args, id)
		}
		q := `SELECT ` + resultRead + ` FROM (
	SELECT *, ROW_NUMBER() OVER (PARTITION BY assignment_id ORDER BY received_at DESC, rowid DESC) AS nth
	FROM results WHERE device_id = ? AND assignment_id IN (?` + strings.Repeat(", ?", n-1) + `)
) WHERE nth = 1`
		rows, err := s.read.QueryContext(ctx, q, args...)
		if err != nil {
			return nil, fmt.Errorf("latest results of device %s: %w", deviceID, err)
		}
		for rows.Next() {
			r, err := scanResult(rows)
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("latest results of device %s: %w", deviceID, err)
			}
			out[r.AssignmentID] = r
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("latest results of device %s: %w", deviceID, err)
		}
	}
	return out, nil
}
