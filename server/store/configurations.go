package store

import (
	"context"
	"time"

	"github.com/mobileatwork/mobileatwork/protocol/schedule"
	"github.com/mobileatwork/mobileatwork/server/distribution"
)

// Configuration kinds.
const (
	KindMobileAtWork = "mobileatwork" // the agent's settings
	KindScript       = "script"       // a script from the repository, its inputs and schedule
)

// DefaultConfigID is the id of the default Mobile@Work configuration that
// every tenant has; it can be edited and withdrawn but not deleted.
const DefaultConfigID = "cfg_default"

// Configuration is what the administrator distributes. Version counts the
// changes to what devices receive; renaming does not change it.
type Configuration struct {
	ID          string
	Kind        string
	Name        string // unique without regard to case
	Description string
	Version     int
	// Priority orders Mobile@Work configurations: 1 wins over 2 on a device
	// both reach. Scripts have 0.
	Priority int
	// Settings are the Mobile@Work keys set on this configuration; unset
	// keys take their documented default.
	Settings map[string]string
	Script   ScriptSettings // KindScript only
	Targets  []distribution.Target
	// ExpiresAt, when set, is when a script configuration stops reaching
	// devices that have not run it (a one-off run of `run --expires`).
	ExpiresAt time.Time
	CreatedAt time.Time
	UpdatedAt time.Time
}

// ScriptSettings are what a script configuration runs and when.
type ScriptSettings struct {
	ScriptID string
	// Inputs overrides the script's declared defaults, by input name. Values
	// may hold {$variable} placeholders resolved per device.
	Inputs   map[string]string
	Schedule schedule.Spec
	RunAs    string
	// Retries is how many more times a failed, timed-out or errored run is
	// tried, 0 to protocol.MaxRetries.
	Retries int
}

// ConfigurationStore keeps configurations and their distributions.
type ConfigurationStore interface {
	// CreateConfiguration stores c; ErrExists for a known id or name, and
	// ErrNotFound when a script configuration names an unknown script.
	CreateConfiguration(ctx context.Context, c Configuration) error
	// UpdateConfiguration replaces every field of the stored configuration
	// with c's (matched by id), targets included; ErrNotFound, or ErrExists
	// when the new name is another configuration's.
	UpdateConfiguration(ctx context.Context, c Configuration) error
	Configuration(ctx context.Context, id string) (Configuration, error)         // ErrNotFound
	ConfigurationByName(ctx context.Context, name string) (Configuration, error) // any case; ErrNotFound
	Configurations(ctx context.Context) ([]Configuration, error)                 // by kind, priority, creation
	// ConfigurationsFor returns, through the targets index, every
	// configuration whose targets may reach the audience: a superset of
	// those distribution.Reaches accepts, never missing one.
	ConfigurationsFor(ctx context.Context, a distribution.Audience) ([]Configuration, error)
	// DeleteConfiguration removes it with its targets and statuses;
	// ErrNotFound if unknown.
	DeleteConfiguration(ctx context.Context, id string) error
	// SetPriorities gives ids[i] priority i+1, in one transaction.
	SetPriorities(ctx context.Context, ids []string, at time.Time) error
}

// Per-device statuses of a configuration.
const (
	StatusPending    = "pending"    // not yet fetched by the device
	StatusInstalled  = "installed"  // the Mobile@Work configuration in effect
	StatusSuperseded = "superseded" // another Mobile@Work configuration wins
	StatusScheduled  = "scheduled"  // delivered; runs at its next occurrence
	StatusRunning    = "running"    // the device fetched the script to run it
	StatusError      = "error"      // includes "no Mobile@Work configuration"
	StatusCancelled  = "cancelled"  // cancelled before it ran, or stopped on the device (also a result's status)
	StatusCancelling = "cancelling" // cancelled while running: the device was asked to stop it
	// A run's own status (succeeded, failed, timed_out, rejected, error)
	// is a status too: protocol.Status*.
)

// DeviceStatus is the state of one configuration on one device.
type DeviceStatus struct {
	ConfigID  string
	DeviceID  string
	Version   int // of the configuration the status is about
	Status    string
	Detail    string
	NextRun   time.Time // recurring scripts: the next occurrence; zero otherwise
	UpdatedAt time.Time // when Status last changed
}

// StatusStore keeps per-device statuses of configurations.
type StatusStore interface {
	// PutStatuses inserts or replaces each (ConfigID, DeviceID) status in one
	// transaction; an unknown configuration or device is ErrNotFound.
	PutStatuses(ctx context.Context, sts []DeviceStatus) error
	DeviceStatuses(ctx context.Context, deviceID string) ([]DeviceStatus, error) // by config id
	ConfigStatuses(ctx context.Context, configID string) ([]DeviceStatus, error) // by device id
	// DeleteStatuses removes the device's statuses of these configurations.
	DeleteStatuses(ctx context.Context, deviceID string, configIDs []string) error
}

// User is a person devices belong to, known from enrollment tokens and
// `user add`.
type User struct {
	Email     string // lower case
	Name      string
	CreatedAt time.Time
}

// UserGroup is a named set of users.
type UserGroup struct {
	Name        string
	Description string
	Members     []string // emails, sorted
	CreatedAt   time.Time
}

// UserStore keeps users and user groups.
type UserStore interface {
	// PutUser adds a user, or sets the name of a known one when u.Name is
	// not empty.
	PutUser(ctx context.Context, u User) error
	User(ctx context.Context, email string) (User, error) // ErrNotFound
	Users(ctx context.Context) ([]User, error)            // by email
	// CreateUserGroup stores g with its members; ErrExists for a known name,
	// ErrNotFound when a member is not a known user.
	CreateUserGroup(ctx context.Context, g UserGroup) error
	UserGroup(ctx context.Context, name string) (UserGroup, error) // ErrNotFound
	UserGroups(ctx context.Context) ([]UserGroup, error)           // by name
	// SetUserGroupMembers replaces the members; ErrNotFound for an unknown
	// group or member.
	SetUserGroupMembers(ctx context.Context, name string, members []string) error
	// UserGroupsOf returns the names of the groups the user is in, sorted.
	UserGroupsOf(ctx context.Context, email string) ([]string, error)
}
