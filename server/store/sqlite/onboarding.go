package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// PutOnboarding replaces the device's onboarding progress.
func (s *Store) PutOnboarding(ctx context.Context, deviceID string, r protocol.OnboardingReport, receivedAt time.Time) error {
	report, err := marshalJSON(r)
	if err != nil {
		return fmt.Errorf("put onboarding of %s: %w", deviceID, err)
	}
	err = s.tx(ctx, func(tx *sql.Tx) error {
		if err := deviceExists(ctx, tx, deviceID); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `
INSERT INTO onboarding (device_id, state, report, received_at) VALUES (?, ?, ?, ?)
ON CONFLICT (device_id) DO UPDATE SET
	state = excluded.state, report = excluded.report, received_at = excluded.received_at`,
			deviceID, r.State, report, formatTime(receivedAt))
		return err
	})
	if err != nil {
		return fmt.Errorf("put onboarding of %s: %w", deviceID, err)
	}
	return nil
}

// Onboarding returns the device's latest onboarding progress.
func (s *Store) Onboarding(ctx context.Context, deviceID string) (store.StoredOnboarding, error) {
	var report, received string
	err := s.read.QueryRowContext(ctx, `SELECT report, received_at FROM onboarding WHERE device_id = ?`, deviceID).Scan(&report, &received)
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.StoredOnboarding{}, fmt.Errorf("get onboarding of %s: %w", deviceID, err)
	}
	var out store.StoredOnboarding
	if err := json.Unmarshal([]byte(report), &out.OnboardingReport); err != nil {
		return store.StoredOnboarding{}, fmt.Errorf("get onboarding of %s: %w", deviceID, err)
	}
	if out.ReceivedAt, err = parseTime(received); err != nil {
		return store.StoredOnboarding{}, fmt.Errorf("get onboarding of %s: %w", deviceID, err)
	}
	return out, nil
}
