package postgres

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/store"
	"github.com/mobileatwork/mobileatwork/server/store/internal/rows"
)

const resultColumns = `run_id, device_id, assignment_id, assignment_version, script_id, occurrence, status,
exit_code, started_at, finished_at, duration_ms, stdout, stderr, stdout_bytes, stderr_bytes, truncated,
invalid_utf8, error, received_at, script_sha256, waiting`

// resultRead are the columns a result is written and read with:
// resultColumns and those later migrations added.
const resultRead = resultColumns + `, attempt, retry_at`

// PutResult stores r unless its run id is already stored, and reports
// whether it was new. The first delivery wins, on any replica: the unique
// run id decides.
func (s *Store) PutResult(ctx context.Context, r protocol.Result, receivedAt time.Time) (bool, error) {
	tag, err := s.db().Exec(ctx, `
INSERT INTO results (`+resultRead+`)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)
ON CONFLICT (run_id) DO NOTHING`,
		r.RunID, r.DeviceID, r.AssignmentID, r.AssignmentVersion, r.ScriptID, nullTime(r.Occurrence), r.Status,
		r.ExitCode, nullTime(r.StartedAt), nullTime(r.FinishedAt), r.DurationMS, []byte(r.Stdout), []byte(r.Stderr),
		r.StdoutBytes, r.StderrBytes, r.Truncated, r.InvalidUTF8, r.Error, receivedAt, r.ScriptSHA256, r.Waiting,
		r.Attempt, nullTime(r.RetryAt))
	if err != nil {
		return false, fmt.Errorf("put result %s: %w", r.RunID, err)
	}
	return tag.RowsAffected() == 1, nil
}

// Results returns the results that match f, the first received first; ties
// keep the order in which they were stored.
func (s *Store) Results(ctx context.Context, f store.ResultFilter) ([]store.StoredResult, error) {
	return rows.Collect(func(fn func(store.StoredResult) error) error { return s.EachResult(ctx, f, fn) })
}

// EachResult reads the results Results returns one row at a time: pgx
// decodes each row from the connection as the callback asks for it.
func (s *Store) EachResult(ctx context.Context, f store.ResultFilter, fn func(store.StoredResult) error) error {
	q, args, err := rows.ResultSelect(f, resultRead, "id", func(n int) string { return "$" + strconv.Itoa(n) }, func(t time.Time) any { return t })
	if err != nil {
		return err
	}
	rs, err := s.db().Query(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("list results: %w", err)
	}
	defer rs.Close()
	return rows.Each(rs, func() (store.StoredResult, error) { return scanResult(rs) }, fn)
}

// PurgeResults deletes up to max of the oldest results received before
// before in one statement; a bounded batch keeps its locks and WAL short.
func (s *Store) PurgeResults(ctx context.Context, before time.Time, max int) (int, error) {
	if err := rows.PurgeBatch(max); err != nil {
		return 0, err
	}
	tag, err := s.db().Exec(ctx, `DELETE FROM results WHERE id IN (
	SELECT id FROM results WHERE received_at < $1 ORDER BY received_at, id LIMIT $2)`, before, max)
	if err != nil {
		return 0, fmt.Errorf("purge results before %s: %w", before.UTC().Format(time.RFC3339), err)
	}
	return int(tag.RowsAffected()), nil
}

// LatestResults reads the newest result of each configuration for the
// device in one query: one backward step of results_device_assignment per
// id (LATERAL ... LIMIT 1), where DISTINCT ON would read every result of
// every configuration. The ids go as one array, so their number has no
// limit.
func (s *Store) LatestResults(ctx context.Context, deviceID string, configIDs []string) (map[string]store.StoredResult, error) {
	out := map[string]store.StoredResult{}
	if len(configIDs) == 0 {
		return out, nil
	}
	rows, err := s.db().Query(ctx, `SELECT r.* FROM unnest($2::text[]) AS c (id) CROSS JOIN LATERAL (
	SELECT `+resultRead+` FROM results WHERE device_id = $1 AND assignment_id = c.id
	ORDER BY received_at DESC, id DESC LIMIT 1) r`, deviceID, configIDs)
	if err != nil {
		return nil, fmt.Errorf("latest results of device %s: %w", deviceID, err)
	}
	latest, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.StoredResult, error) { return scanResult(r) })
	if err != nil {
		return nil, fmt.Errorf("latest results of device %s: %w", deviceID, err)
	}
	for _, r := range latest {
		out[r.AssignmentID] = r
	}
	return out, nil
}

func scanResult(r pgx.Row) (store.StoredResult, error) {
	var (
		sr                            store.StoredResult
		occurrence, started, finished *time.Time
		retryAt                       *time.Time
		stdout, stderr                []byte
	)
	if err := r.Scan(&sr.RunID, &sr.DeviceID, &sr.AssignmentID, &sr.AssignmentVersion, &sr.ScriptID, &occurrence,
		&sr.Status, &sr.ExitCode, &started, &finished, &sr.DurationMS, &stdout, &stderr,
		&sr.StdoutBytes, &sr.StderrBytes, &sr.Truncated, &sr.InvalidUTF8, &sr.Error, &sr.ReceivedAt, &sr.ScriptSHA256, &sr.Waiting,
		&sr.Attempt, &retryAt); err != nil {
		return store.StoredResult{}, err
	}
	sr.Stdout, sr.Stderr = string(stdout), string(stderr)
	sr.Occurrence, sr.StartedAt, sr.FinishedAt = fromNull(occurrence), fromNull(started), fromNull(finished)
	sr.ReceivedAt, sr.RetryAt = sr.ReceivedAt.UTC(), fromNull(retryAt)
	return sr, nil
}
