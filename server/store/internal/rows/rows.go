// Package rows holds what the store backends encode alike: the JSON
// columns of a configuration and of a check-in, and the filters of a
// results listing.
package rows

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// Marshal encodes a value for a JSON column, as the backend stores JSON.
type Marshal func(v any) (string, error)

// Config is a configuration's columns in their stored form.
type Config struct {
	Settings, Inputs, Schedule string
	ScriptID                   any // NULL for a Mobile@Work configuration
}

// EncodeConfig encodes c's JSON columns; nil maps are stored as {}.
func EncodeConfig(c store.Configuration, marshal Marshal) (Config, error) {
	var r Config
	settings := c.Settings
	if settings == nil {
		settings = map[string]string{}
	}
	inputs := c.Script.Inputs
	if inputs == nil {
		inputs = map[string]string{}
	}
	var err error
	if r.Settings, err = marshal(settings); err != nil {
		return r, err
	}
	if r.Inputs, err = marshal(inputs); err != nil {
		return r, err
	}
	if r.Schedule, err = marshal(c.Script.Schedule); err != nil {
		return r, err
	}
	if c.Script.ScriptID != "" {
		r.ScriptID = c.Script.ScriptID
	}
	return r, nil
}

// Checkin is a check-in's JSON columns.
type Checkin struct{ Facts, Capabilities, RecentLog string }

// EncodeCheckin encodes c's JSON columns; nil lists are stored as [].
func EncodeCheckin(c store.Checkin, marshal Marshal) (Checkin, error) {
	var r Checkin
	caps := c.Capabilities
	if caps == nil {
		caps = []string{}
	}
	logLines := c.RecentLog
	if logLines == nil {
		logLines = []protocol.LogLine{}
	}
	var err error
	if r.Facts, err = marshal(c.Facts); err != nil {
		return r, err
	}
	if r.Capabilities, err = marshal(caps); err != nil {
		return r, err
	}
	r.RecentLog, err = marshal(logLines)
	return r, err
}

// GenerationTables are the tables check-in payloads are built from
// tenant-wide: each backend's triggers bump the store generation at every
// change to them (users' names aside, which their own triggers watch). The
// list is part of released migrations of both backends: a table added
// later gets its triggers in a new migration of each, not by growing it.
var GenerationTables = []string{
	"configurations", "config_targets", "scripts",
	"apps", "app_details", "app_reviews", "app_distributions",
	"profiles", "profile_targets", "user_groups", "user_group_members",
}

// DeliveryCheckSelect is the statement of a delivery check: a row of part
// 0 with the generation and the device's delivery (NULL when there is
// none), and a row of part 1 per status with the columns its mark takes,
// in no order (SortMarks); device is the placeholder of the device id
// (twice).
func DeliveryCheckSelect(device string) string {
	return `
SELECT 0 AS part, g.n AS n, v.digest, v.basis, v.generation, v.refresh_at, v.sent_at,
	NULL AS config_id, NULL AS version, NULL AS status, NULL AS detail
FROM generation g LEFT JOIN deliveries v ON v.device_id = ` + device + `
WHERE g.id = 1
UNION ALL
SELECT 1, NULL, NULL, NULL, NULL, NULL, NULL, st.config_id, st.version, st.status, st.detail
FROM config_status st WHERE st.device_id = ` + device
}

// SortMarks puts the marks a DeliveryCheckSelect read in configuration id
// order. The statement does not: a compound statement's ORDER BY sorts
// every row, where the index already reads the statuses in order.
func SortMarks(marks []store.StatusMark) {
	slices.SortFunc(marks, func(a, b store.StatusMark) int { return strings.Compare(a.ConfigID, b.ConfigID) })
}

// ResultSelect is the query of a results listing, oldest first and ties
// in the order stored, and its arguments: cols are the columns read, id
// the column of that order (rowid, id), placeholder and instant as in
// ResultWhere. Limit reads the newest rows backwards, First bounds the
// oldest, in the query, so the database stops there too.
func ResultSelect(f store.ResultFilter, cols, id string, placeholder func(n int) string, instant func(time.Time) any) (string, []any, error) {
	if f.Limit < 0 || f.First < 0 || (f.Limit > 0 && f.First > 0) {
		return "", nil, fmt.Errorf("list results: a limit of the newest (%d) or of the oldest (%d), not both nor below 0", f.Limit, f.First)
	}
	cond, args := ResultWhere(f, placeholder, instant)
	if f.Limit > 0 {
		// The newest Limit rows, handed back oldest first.
		args = append(args, f.Limit)
		return `SELECT ` + cols + ` FROM (SELECT ` + id + ` AS rid, ` + cols + ` FROM results` + cond +
			` ORDER BY received_at DESC, rid DESC LIMIT ` + placeholder(len(args)) + `) r ORDER BY received_at, rid`, args, nil
	}
	q := `SELECT ` + cols + ` FROM results` + cond + ` ORDER BY received_at, ` + id
	if f.First > 0 {
		args = append(args, f.First)
		q += ` LIMIT ` + placeholder(len(args))
	}
	return q, args, nil
}

// ResultWhere renders f's filters as a WHERE clause ("" when none) and
// its arguments; placeholder names the n-th argument (1-based) in the
// backend's dialect and instant encodes a time as the backend stores it.
func ResultWhere(f store.ResultFilter, placeholder func(n int) string, instant func(time.Time) any) (string, []any) {
	var (
		where []string
		args  []any
	)
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, cond+" "+placeholder(len(args)))
	}
	if f.DeviceID != "" {
		add("device_id =", f.DeviceID)
	}
	if f.ConfigID != "" {
		add("assignment_id =", f.ConfigID)
	}
	if f.ScriptID != "" {
		add("script_id =", f.ScriptID)
	}
	if f.Status != "" {
		add("status =", f.Status)
	}
	if !f.Since.IsZero() {
		add("received_at >=", instant(f.Since))
	}
	if !f.Until.IsZero() {
		add("received_at <=", instant(f.Until))
	}
	if len(where) == 0 {
		return "", args
	}
	return " WHERE " + strings.Join(where, " AND "), args
}

// Cursor is the part of database/sql's and pgx's rows that Each needs.
type Cursor interface {
	Next() bool
	Err() error
}

// Each hands fn each row scan reads from c, stopping at the first error;
// fn's error is returned as is.
func Each[T any](c Cursor, scan func() (T, error), fn func(T) error) error {
	for c.Next() {
		v, err := scan()
		if err != nil {
			return fmt.Errorf("list results: %w", err)
		}
		if err := fn(v); err != nil {
			return err
		}
	}
	if err := c.Err(); err != nil {
		return fmt.Errorf("list results: %w", err)
	}
	return nil
}

// Collect gathers what each hands its callback into a slice, for the
// short lists built on a streaming read.
func Collect[T any](each func(fn func(T) error) error) ([]T, error) {
	var out []T
	err := each(func(v T) error {
		out = append(out, v)
		return nil
	})
	return out, err
}

// PurgeBatch refuses a purge batch that could never finish a purge.
func PurgeBatch(max int) error {
	if max < 1 {
		return fmt.Errorf("purge results: batch size must be at least 1, got %d", max)
	}
	return nil
}
