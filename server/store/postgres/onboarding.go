package postgres

import (
	"context"
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
	err = s.tx(ctx, func(q db) error {
		if err := deviceExists(ctx, q, deviceID); err != nil {
			return err
		}
		_, err := q.Exec(ctx, `
INSERT INTO onboarding (device_id, state, report, received_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (device_id) DO UPDATE SET
	state = excluded.state, report = excluded.report, received_at = excluded.received_at`,
			deviceID, r.State, report, receivedAt)
		return err
	})
	if err != nil {
		return fmt.Errorf("put onboarding of %s: %w", deviceID, err)
	}
	return nil
}

// Onboarding returns the device's latest onboarding progress.
func (s *Store) Onboarding(ctx context.Context, deviceID string) (store.StoredOnboarding, error) {
	var (
		out    store.StoredOnboarding
		report []byte
	)
	err := s.db().QueryRow(ctx, `SELECT report, received_at FROM onboarding WHERE device_id = $1`, deviceID).Scan(&report, &out.ReceivedAt)
	if err == nil {
		err = unmarshalJSON(report, &out.OnboardingReport)
	}
	if err != nil {
		return store.StoredOnboarding{}, fmt.Errorf("get onboarding of %s: %w", deviceID, notFound(err))
	}
	out.ReceivedAt = out.ReceivedAt.UTC()
	return out, nil
}
