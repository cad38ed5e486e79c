package store

import (
	"context"
	"time"
)

// Wake asks an online device to check in now. It is a row in the store,
// not a message between processes, so that the admin command that writes
// it reaches whichever serving process (or replica) holds the device's
// wake request.
type Wake struct {
	DeviceID    string
	RequestedAt time.Time
	ExpiresAt   time.Time // past it the wake is dropped: the device checks in on its own
}

// WakeStore keeps pending wakes, one per device.
type WakeStore interface {
	// RequestWakes records a wake for each device, requested at at and
	// pending until expires; a device's newer request replaces its older.
	RequestWakes(ctx context.Context, deviceIDs []string, at, expires time.Time) error
	// PendingWakes lists the wakes not expired at now, by device id.
	PendingWakes(ctx context.Context, now time.Time) ([]Wake, error)
	// DeleteWake removes the device's wake once delivered, unless it was
	// requested after requestedAt (a newer wake stays pending). None is not
	// an error.
	DeleteWake(ctx context.Context, deviceID string, requestedAt time.Time) error
	// PurgeWakes deletes the wakes expired at now and reports how many.
	PurgeWakes(ctx context.Context, now time.Time) (int, error)
}
