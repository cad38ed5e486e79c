package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/mobileatwork/mobileatwork/server/store"
)

const assignmentColumns = `id, script_id, target, target_id, schedule, inputs, run_as, version, created_at`

// CreateAssignment stores an assignment. An existing id is store.ErrExists;
// a script id the store does not hold is store.ErrNotFound.
func (s *Store) CreateAssignment(ctx context.Context, a store.Assignment) error {
	sched, err := marshalJSON(a.Schedule)
	if err != nil {
		return fmt.Errorf("create assignment %s: %w", a.ID, err)
	}
	inputs := a.Inputs
	if inputs == nil {
		inputs = map[string]string{}
	}
	in, err := marshalJSON(inputs)
	if err != nil {
		return fmt.Errorf("create assignment %s: %w", a.ID, err)
	}
	res, err := s.db.ExecContext(ctx, `
INSERT INTO assignments (`+assignmentColumns+`)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO NOTHING`,
		a.ID, a.ScriptID, a.Target, a.TargetID, sched, in, a.RunAs, a.Version, formatTime(a.CreatedAt))
	if isForeignKeyViolation(err) {
		return fmt.Errorf("create assignment %s: script %s: %w", a.ID, a.ScriptID, store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("create assignment %s: %w", a.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("create assignment %s: %w", a.ID, err)
	} else if n == 0 {
		return fmt.Errorf("create assignment %s: %w", a.ID, store.ErrExists)
	}
	return nil
}

// Assignment returns the assignment with this id, or store.ErrNotFound.
func (s *Store) Assignment(ctx context.Context, id string) (store.Assignment, error) {
	a, err := scanAssignment(s.db.QueryRowContext(ctx, `SELECT `+assignmentColumns+` FROM assignments WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Assignment{}, fmt.Errorf("get assignment %s: %w", id, err)
	}
	return a, nil
}

// Assignments returns every assignment, the oldest first.
func (s *Store) Assignments(ctx context.Context) ([]store.Assignment, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+assignmentColumns+` FROM assignments ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list assignments: %w", err)
	}
	defer rows.Close()
	var out []store.Assignment
	for rows.Next() {
		a, err := scanAssignment(rows)
		if err != nil {
			return nil, fmt.Errorf("list assignments: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list assignments: %w", err)
	}
	return out, nil
}

func scanAssignment(r scanner) (store.Assignment, error) {
	var (
		a                        store.Assignment
		sched, inputs, createdAt string
	)
	if err := r.Scan(&a.ID, &a.ScriptID, &a.Target, &a.TargetID, &sched, &inputs, &a.RunAs, &a.Version, &createdAt); err != nil {
		return store.Assignment{}, err
	}
	if err := unmarshalJSON(sched, &a.Schedule); err != nil {
		return store.Assignment{}, err
	}
	if err := unmarshalJSON(inputs, &a.Inputs); err != nil {
		return store.Assignment{}, err
	}
	if len(a.Inputs) == 0 {
		a.Inputs = nil
	}
	var err error
	a.CreatedAt, err = parseTime(createdAt)
	return a, err
}
