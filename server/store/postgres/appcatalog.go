package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/mobileatwork/mobileatwork/server/distribution"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// appExists reports store.ErrNotFound for an id that is not in the catalog,
// so callers get the sentinel rather than a foreign-key failure. In a
// transaction FOR SHARE keeps the app until the write that follows commits.
func appExists(ctx context.Context, q db, id string) error {
	var one int
	err := q.QueryRow(ctx, `SELECT 1 FROM apps WHERE id = $1 FOR SHARE`, id).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("app %s: %w", id, store.ErrNotFound)
	}
	return err
}

// PutAppDetails replaces the details of an app.
func (s *Store) PutAppDetails(ctx context.Context, d store.AppDetails) error {
	var icon any
	if d.Icon != nil {
		b, err := marshalJSON(d.Icon)
		if err != nil {
			return fmt.Errorf("put app details %s: %w", d.AppID, err)
		}
		icon = b
	}
	shots := d.Screenshots
	if shots == nil {
		shots = []store.Image{}
	}
	sb, err := marshalJSON(shots)
	if err != nil {
		return fmt.Errorf("put app details %s: %w", d.AppID, err)
	}
	return s.tx(ctx, func(q db) error {
		if err := appExists(ctx, q, d.AppID); err != nil {
			return fmt.Errorf("put app details: %w", err)
		}
		_, err := q.Exec(ctx, `
INSERT INTO app_details (app_id, publisher, category, short_description, description, icon, screenshots, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (app_id) DO UPDATE SET
	publisher = excluded.publisher, category = excluded.category,
	short_description = excluded.short_description, description = excluded.description,
	icon = excluded.icon, screenshots = excluded.screenshots, updated_at = excluded.updated_at`,
			d.AppID, d.Publisher, d.Category, d.ShortDescription, d.Description, icon, sb, d.UpdatedAt)
		if err != nil {
			return fmt.Errorf("put app details %s: %w", d.AppID, err)
		}
		return nil
	})
}

// AppDetails returns the details of an app.
func (s *Store) AppDetails(ctx context.Context, appID string) (store.AppDetails, error) {
	if err := appExists(ctx, s.db(), appID); err != nil {
		return store.AppDetails{}, fmt.Errorf("get app details: %w", err)
	}
	var (
		d           = store.AppDetails{AppID: appID}
		icon, shots []byte
	)
	err := s.db().QueryRow(ctx, `
SELECT publisher, category, short_description, description, icon, screenshots, updated_at
FROM app_details WHERE app_id = $1`, appID).Scan(
		&d.Publisher, &d.Category, &d.ShortDescription, &d.Description, &icon, &shots, &d.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return d, nil
	}
	if err != nil {
		return store.AppDetails{}, fmt.Errorf("get app details %s: %w", appID, err)
	}
	if icon != nil {
		d.Icon = new(store.Image)
		if err := unmarshalJSON(icon, d.Icon); err != nil {
			return store.AppDetails{}, fmt.Errorf("get app details %s: icon: %w", appID, err)
		}
	}
	if err := unmarshalJSON(shots, &d.Screenshots); err != nil {
		return store.AppDetails{}, fmt.Errorf("get app details %s: screenshots: %w", appID, err)
	}
	if len(d.Screenshots) == 0 {
		d.Screenshots = nil
	}
	d.UpdatedAt = d.UpdatedAt.UTC()
	return d, nil
}

// AddReview stores a review of a catalog app.
func (s *Store) AddReview(ctx context.Context, r store.Review) error {
	return s.tx(ctx, func(q db) error {
		if err := appExists(ctx, q, r.AppID); err != nil {
			return fmt.Errorf("add review: %w", err)
		}
		tag, err := q.Exec(ctx, `
INSERT INTO app_reviews (id, app_id, author, rating, text, created_at) VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (id) DO NOTHING`, r.ID, r.AppID, r.Author, r.Rating, r.Text, r.CreatedAt)
		if err != nil {
			return fmt.Errorf("add review %s: %w", r.ID, err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("add review %s: %w", r.ID, store.ErrExists)
		}
		return nil
	})
}

// Reviews returns the reviews of an app, the newest first.
func (s *Store) Reviews(ctx context.Context, appID string) ([]store.Review, error) {
	rows, err := s.db().Query(ctx, `
SELECT id, app_id, author, rating, text, created_at FROM app_reviews
WHERE app_id = $1 ORDER BY created_at DESC, id`, appID)
	if err != nil {
		return nil, fmt.Errorf("list reviews of %s: %w", appID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Review, error) {
		var rv store.Review
		err := r.Scan(&rv.ID, &rv.AppID, &rv.Author, &rv.Rating, &rv.Text, &rv.CreatedAt)
		rv.CreatedAt = rv.CreatedAt.UTC()
		return rv, err
	})
	if err != nil {
		return nil, fmt.Errorf("list reviews of %s: %w", appID, err)
	}
	return out, nil
}

const insertDistribution = `INSERT INTO app_distributions (id, app_id, target, target_id, created_at) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT DO NOTHING`

// AddAppDistribution makes an app available to a target.
func (s *Store) AddAppDistribution(ctx context.Context, d store.AppDistribution) error {
	return s.tx(ctx, func(q db) error {
		if err := appExists(ctx, q, d.AppID); err != nil {
			return fmt.Errorf("distribute app: %w", err)
		}
		tag, err := q.Exec(ctx, insertDistribution, d.ID, d.AppID, d.Target, d.TargetID, d.CreatedAt)
		if err != nil {
			return fmt.Errorf("distribute app %s: %w", d.AppID, err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("distribute app %s to %s %s: %w", d.AppID, d.Target, d.TargetID, store.ErrExists)
		}
		return nil
	})
}

// SetAppDistributions replaces the distributions of an app. The app row is
// locked so two replacements do not interleave.
func (s *Store) SetAppDistributions(ctx context.Context, appID string, ds []store.AppDistribution) error {
	return s.tx(ctx, func(q db) error {
		var one int
		if err := q.QueryRow(ctx, `SELECT 1 FROM apps WHERE id = $1 FOR UPDATE`, appID).Scan(&one); err != nil {
			return fmt.Errorf("distribute app: app %s: %w", appID, notFound(err))
		}
		if _, err := q.Exec(ctx, `DELETE FROM app_distributions WHERE app_id = $1`, appID); err != nil {
			return fmt.Errorf("distribute app %s: %w", appID, err)
		}
		for _, d := range ds {
			if d.AppID != appID {
				return fmt.Errorf("distribute app %s: distribution %s is app %s's", appID, d.ID, d.AppID)
			}
			if _, err := q.Exec(ctx, insertDistribution, d.ID, d.AppID, d.Target, d.TargetID, d.CreatedAt); err != nil {
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
	rows, err := s.db().Query(ctx, `
SELECT id, app_id, target, target_id, created_at FROM app_distributions `+where+` ORDER BY created_at, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list app distributions: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.AppDistribution, error) {
		var d store.AppDistribution
		err := r.Scan(&d.ID, &d.AppID, &d.Target, &d.TargetID, &d.CreatedAt)
		d.CreatedAt = d.CreatedAt.UTC()
		return d, err
	})
	if err != nil {
		return nil, fmt.Errorf("list app distributions: %w", err)
	}
	return out, nil
}
