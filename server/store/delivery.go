package store

import (
	"context"
	"time"
)

// Delivery is what the server last sent a device in full, and what it was
// built from: while the tenant's Generation and the device's own inputs
// (Basis) are unchanged and RefreshAt has not come, a device that holds
// Digest is told its payload is unchanged instead of being sent it again.
type Delivery struct {
	DeviceID string
	// Digest is the protocol.ContentDigest of the payload; empty when the
	// device must not be answered "unchanged" (the payload was paged or
	// redistributed).
	Digest string
	// Basis is a digest of the device's inputs to the payload that its own
	// check-in reports (user, groups, capabilities, facts, certificate).
	Basis string
	// Generation is the store's Generation read before the payload was built.
	Generation int64
	// RefreshAt is when the device's statuses are next due to change on
	// their own (the earliest next run of a recurring script); zero: never.
	RefreshAt time.Time
	SentAt    time.Time
}

// DeliveryCheck is what tells whether a device's check-in is answered
// "unchanged", read at one moment: the store's Generation, what the device
// was last sent, and the marks of its statuses.
type DeliveryCheck struct {
	Generation int64
	// Delivery is what the device was last sent; the zero Delivery when
	// nothing was recorded.
	Delivery Delivery
	// Marks are the device's statuses by configuration id (as
	// DeviceStatuses), without their times.
	Marks []StatusMark
}

// StatusMark is what a check-in's payload takes from one of the device's
// statuses: which configuration ran, at which version, and how.
type StatusMark struct {
	ConfigID string
	Version  int
	Status   string
	Detail   string
}

// Marks are the marks of statuses, in their order.
func Marks(sts []DeviceStatus) []StatusMark {
	out := make([]StatusMark, len(sts))
	for i, st := range sts {
		out[i] = StatusMark{ConfigID: st.ConfigID, Version: st.Version, Status: st.Status, Detail: st.Detail}
	}
	return out
}

// KeyEnvelope is a key envelope sealed to one device for one version of a
// script configuration. It is reused while the configuration's version,
// the script's blob and the device certificate it was sealed to stay the
// same.
type KeyEnvelope struct {
	DeviceID      string
	ConfigID      string
	ConfigVersion int
	BlobSHA256    string
	CertSerial    string // hex serial of the device certificate it is sealed to
	Envelope      []byte
	CreatedAt     time.Time
}

// DeliveryStore keeps what makes a check-in cheap: the tenant's change
// generation, what each device was last sent, and sealed key envelopes.
type DeliveryStore interface {
	// Generation is a number that grows, in the same transaction as the
	// change, at every change to what check-in payloads are built from
	// tenant-wide: configurations and their targets, scripts, catalog apps,
	// their details, reviews and distributions, onboarding profiles and
	// their targets, users' names, user groups and their members. A
	// device's check-in, results, statuses, inventory and onboarding
	// progress do not change it.
	Generation(ctx context.Context) (int64, error)
	// DeliveryCheck reads the generation, what the device was last sent
	// and its statuses in one consistent read: it is the read of every
	// check-in of a device that holds a payload, so one query, not three.
	// An unknown device has no delivery and no statuses.
	DeliveryCheck(ctx context.Context, deviceID string) (DeliveryCheck, error)
	// PutDelivery replaces it; an unknown device is ErrNotFound.
	PutDelivery(ctx context.Context, d Delivery) error
	// KeyEnvelopes returns the envelopes kept for the device, by
	// configuration id.
	KeyEnvelopes(ctx context.Context, deviceID string) ([]KeyEnvelope, error)
	// PutKeyEnvelopes inserts or replaces each (DeviceID, ConfigID)
	// envelope in one transaction; an unknown device or configuration is
	// ErrNotFound and nothing is stored. Deleting a configuration deletes
	// its envelopes.
	PutKeyEnvelopes(ctx context.Context, envs []KeyEnvelope) error
}
