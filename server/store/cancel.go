package store

import (
	"context"
	"time"
)

// Cancellation withdraws one version of a script configuration from one
// device (`config cancel`): that version is not sent to the device again,
// and a new version reaches it as usual.
type Cancellation struct {
	ConfigID string
	DeviceID string
	Version  int
	At       time.Time
}

// ScriptsStop is the emergency brake on scripts (`stop-scripts`): while it
// holds, the devices it covers run no script and stop the one running.
type ScriptsStop struct {
	DeviceID string // "" stops the whole tenant
	Reason   string
	At       time.Time
}

// CancelStore keeps cancellations and the brake on scripts.
type CancelStore interface {
	// CancelRuns records the cancellations, replacing those of the same
	// configuration and device, and puts the statuses, in one
	// transaction; a zero expires leaves the configuration's expiry as it
	// is, another sets it. An unknown configuration or device is
	// ErrNotFound and nothing is stored.
	CancelRuns(ctx context.Context, configID string, expires time.Time, cs []Cancellation, sts []DeviceStatus) error
	// Cancellations returns the device's cancellations, by configuration id.
	Cancellations(ctx context.Context, deviceID string) ([]Cancellation, error)
	// StopScripts records the stops, replacing those of the same device
	// (or the tenant's), and grows the Generation, in one transaction; an
	// unknown device is ErrNotFound and nothing is stored.
	StopScripts(ctx context.Context, stops []ScriptsStop) error
	// ResumeScripts removes the stops of these devices ("" the tenant's)
	// and grows the Generation when it removed one. Ids not stopped are
	// skipped.
	ResumeScripts(ctx context.Context, deviceIDs []string) error
	// ScriptsStops returns the stops in force, by device id (the tenant's,
	// "", first). With deviceIDs, only those ("" the tenant's).
	ScriptsStops(ctx context.Context, deviceIDs ...string) ([]ScriptsStop, error)
}
