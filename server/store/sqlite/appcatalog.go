package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/mobileatwork/mobileatwork/server/distribution"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// appExists reports store.ErrNotFound for an id that is not in the catalog,
// so callers get the sentinel rather than a foreign-key failure.
func appExists(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, id string) error {
	var one int
	err := q.QueryRowContext(ctx, `SELECT 1 FROM apps WHERE id = ?`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("app %s: %w", id, store.ErrNotFound)
	}
	return err
}

// PutAppDetails replaces the details of an app.
func (s *Store) PutAppDetails(ctx context.Context, d store.AppDetails) error {
	var icon any
	if d.Icon != nil {
		b, err := json.Marshal(d.Icon)
		if err != nil {
			return fmt.Errorf("put app details %s: %w", d.AppID, err)
		}
		icon = string(b)
	}
	shots := d.Screenshots
	if shots == nil {
		shots = []store.Image{}
	}
	sb, err := json.Marshal(shots)
	if err != nil {
		return fmt.Errorf("put app details %s: %w", d.AppID, err)
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		if err := appExists(ctx, tx, d.AppID); err != nil {
			return fmt.Errorf("put app details: %w", err)
		}
		_, err := tx.ExecContext(ctx, `
INSERT INTO app_details (app_id, publisher, category, short_description, description, icon, screenshots, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (app_id) DO UPDATE SET
	publisher = excluded.publisher, category = excluded.category,
	short_description = excluded.short_description, description = excluded.description,
	icon = excluded.icon, screenshots = excluded.screenshots, updated_at = excluded.updated_at`,
			d.AppID, d.Publisher, d.Category, d.ShortDescription, d.Description, icon, string(sb), formatTime(d.UpdatedAt))
		if err != nil {
			return fmt.Errorf("put app details %s: %w", d.AppID, err)
		}
		return nil
	})
}

// AppDetails returns the details of an app.
func (s *Store) AppDetails(ctx context.Context, appID string) (store.AppDetails, error) {
	if err := appExists(ctx, s.db, appID); err != nil {
		return store.AppDetails{}, fmt.Errorf("get app details: %w", err)
	}
	var (
		d              = store.AppDetails{AppID: appID}
		icon           sql.NullString
		shots, updated string
	)
	err := s.read.QueryRowContext(ctx, `
SELECT publisher, category, short_description, description, icon, screenshots, updated_at
FROM app_details WHERE app_id = ?`, appID).Scan(
		&d.Publisher, &d.Category, &d.ShortDescription, &d.Description, &icon, &shots, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return d, nil
	}
	if err != nil {
		return store.AppDetails{}, fmt.Errorf("get app details %s: %w", appID, err)
	}
	if icon.Valid {
		d.Icon = new(store.Image)
		if err := json.Unmarshal([]byte(icon.String), d.Icon); err != nil {
			return store.AppDetails{}, fmt.Errorf("get app details %s: icon: %w", appID, err)
		}
	}
	if err := json.Unmarshal([]byte(shots), &d.Screenshots); err != nil {
		return store.AppDetails{}, fmt.Errorf("get app details %s: screenshots: %w", appID, err)
	}
	if len(d.Screenshots) == 0 {
		d.Screenshots = nil
	}
	if d.UpdatedAt, err = parseTime(updated); err != nil {
		return store.AppDetails{}, fmt.Errorf("get app details %s: %w", appID, err)
	}
	return d, nil
}

// AddReview stores a review of a catalog app.
func (s *Store) AddReview(ctx context.Context, r store.Review) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if err := appExists(ctx, tx, r.AppID); err != nil {
			return fmt.Errorf("add review: %w", err)
		}
		res, err := tx.ExecContext(ctx, `
INSERT INTO app_reviews (id, app_id, author, rating, text, created_at) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO NOTHING`, r.ID, r.AppID, r.Author, r.Rating, r.Text, formatTime(r.CreatedAt))
		if err != nil {
			return fmt.Errorf("add review %s: %w", r.ID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("add review %s: %w", r.ID, store.ErrExists)
		}
		return nil
	})
}

// Reviews returns the reviews of an app, the newest first.
func (s *Store) Reviews(ctx context.Context, appID string) ([]store.Review, error) {
	rows, err := s.read.QueryContext(ctx, `
SELECT id, app_id, author, rating, text, created_at FROM app_reviews
WHERE app_id = ? ORDER BY created_at DESC, id`, appID)
	if err != nil {
		return nil, fmt.Errorf("list reviews of %s: %w", appID, err)
	}
	defer rows.Close()
	var out []store.Review
	for rows.Next() {
		var (
			r       store.Review
			created string
		)
		if err := rows.Scan(&r.ID, &r.AppID, &r.Author, &r.Rating, &r.Text, &created); err != nil {
			return nil, fmt.Errorf("list reviews of %s: %w", appID, err)
		}
		if r.CreatedAt, err = parseTime(created); err != nil {
			return nil, fmt.Errorf("list reviews of %s: %w", appID, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list reviews of %s: %w", appID, err)
	}
	return out, nil
}

// AddAppDistribution makes an app available to a target.
func (s *Store) AddAppDistribution(ctx context.Context, d store.AppDistribution) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if err := appExists(ctx, tx, d.AppID); err != nil {
			return fmt.Errorf("distribute app: %w", err)
		}
		res, err := tx.ExecContext(ctx, `
INSERT INTO app_distributions (id, app_id, target, target_id, created_at) VALUES (?, ?, ?, ?, ?)
ON CONFLICT DO NOTHING`,
			d.ID, d.AppID, d.Target, d.TargetID, formatTime(d.CreatedAt))
		if err != nil {
			return fmt.Errorf("distribute app %s: %w", d.AppID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("distribute app %s to %s %s: %w", d.AppID, d.Target, d.TargetID, store.ErrExists)
		}
		return nil
	})
}

// SetAppDistributions replaces the distributions of an app.
func (s *Store) SetAppDistributions(ctx context.Context, appID string, ds []store.AppDistribution) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if err := appExists(ctx, tx, appID); err != nil {
			return fmt.Errorf("distribute app: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM app_distributions WHERE app_id = ?`, appID); err != nil {
			return fmt.Errorf("distribute app %s: %w", appID, err)
		}
		for _, d := range ds {
			if d.AppID != appID {
				return fmt.Errorf("distribute app %s: distribution %s is app %s's", appID, d.ID, d.AppID)
			}
			if _, err := tx.ExecContext(ctx, `
INSERT INTO app_distributions (id, app_id, target, target_id, created_at) VALUES (?, ?, ?, ?, ?)
ON CONFLICT DO NOTHING`, d.ID, d.AppID, d.Target, d.TargetID, formatTime(d.CreatedAt)); err != nil {
				return fmt.Errorf("distribute app %s: %w", appID, err)
			}
		}
		return nil
	})
}

// AppDistributions returns every distribution, oldest first.
func (s *Store) AppDistributions(ctx context.Context) ([]store.AppDistribution, error) {
	return s.queryAppDistributions(ctx, "")
}

// AppDistributionsFor looks up, through app_distributions_reach, the
// distributions naming this device, its user, one of their groups, or
// everyone.
func (s *Store) AppDistributionsFor(ctx context.Context, a distribution.Audience) ([]store.AppDistribution, error) {
	where, args := reachWhere(a, "target", "target_id")
	return s.queryAppDistributions(ctx, "WHERE "+where, args...)
}

func (s *Store) queryAppDistributions(ctx context.Context, where string, args ...any) ([]store.AppDistribution, error) {
	rows, err := s.read.QueryContext(ctx, `
SELECT id, app_id, target, target_id, created_at FROM app_distributions `+where+` ORDER BY created_at, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list app distributions: %w", err)
	}
	defer rows.Close()
	var out []store.AppDistribution
	for rows.Next() {
		var (
			d       store.AppDistribution
			created string
		)
		if err := rows.Scan(&d.ID, &d.AppID, &d.Target, &d.TargetID, &created); err != nil {
			return nil, fmt.Errorf("list app distributions: %w", err)
		}
		if d.CreatedAt, err = parseTime(created); err != nil {
			return nil, fmt.Errorf("list app distributions: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list app distributions: %w", err)
	}
	return out, nil
}
