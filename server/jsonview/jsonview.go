// Package jsonview holds the JSON shapes of the tenant's objects as
// administrators read them: the CLI's --json output now and the admin API
// later print the same documents. Keys are snake_case; an instant that has
// not happened is left out, never printed as year 1.
package jsonview

import (
	"slices"
	"strings"
	"time"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/protocol/schedule"
	"github.com/mobileatwork/mobileatwork/server"
	"github.com/mobileatwork/mobileatwork/server/distribution"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// when is an optional instant: nil for the zero time.
func when(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// Target is one entry of a distribution.
type Target struct {
	Kind  string `json:"kind"`
	Value string `json:"value,omitempty"`
	Text  string `json:"text"` // as given to --to
}

// Distribution is a configuration's distribution.
type Distribution struct {
	Level   string   `json:"level"` // all, none or custom
	Targets []Target `json:"targets"`
}

// String is the targets as --to takes them, comma-separated; none for
// none.
func (d Distribution) String() string {
	if len(d.Targets) == 0 {
		return distribution.None
	}
	parts := make([]string, len(d.Targets))
	for i, t := range d.Targets {
		parts[i] = t.Text
	}
	return strings.Join(parts, ",")
}

// NewDistribution shapes a list of targets.
func NewDistribution(ts []distribution.Target) Distribution {
	d := Distribution{Level: distribution.Level(ts), Targets: []Target{}}
	for _, t := range ts {
		d.Targets = append(d.Targets, Target{Kind: t.Kind, Value: t.Value, Text: t.String()})
	}
	return d
}

// ScriptSettings are a script configuration's script, inputs and schedule.
type ScriptSettings struct {
	ScriptID      string            `json:"script_id"`
	ScriptName    string            `json:"script_name,omitempty"`
	ScriptVersion int               `json:"script_version,omitempty"` // the script's current version
	ScriptSHA256  string            `json:"script_sha256,omitempty"`  // of its current body
	Inputs        map[string]string `json:"inputs"`
	Schedule      schedule.Spec     `json:"schedule"`
	When          string            `json:"when"` // the schedule in words
	RunAs         string            `json:"run_as"`
	Retries       int               `json:"retries"`
}

// Config is a configuration.
type Config struct {
	ID           string            `json:"id"`
	Kind         string            `json:"kind"`
	Name         string            `json:"name"`
	Description  string            `json:"description"`
	Version      int               `json:"version"`
	Priority     int               `json:"priority,omitempty"`
	Settings     map[string]string `json:"settings,omitempty"`     // every key, effective values
	SettingsSet  []string          `json:"settings_set,omitempty"` // the keys set, not left at their defaults
	Script       *ScriptSettings   `json:"script,omitempty"`
	Distribution Distribution      `json:"distribution"`
	ExpiresAt    *time.Time        `json:"expires_at,omitempty"` // a run-now configuration's
	CreatedAt    *time.Time        `json:"created_at,omitempty"`
	UpdatedAt    *time.Time        `json:"updated_at,omitempty"`
}

// NewConfig shapes a configuration; settings are the effective values of
// a Mobile@Work configuration, sc the script of a script configuration.
func NewConfig(c store.Configuration, settings map[string]string, sc *store.Script) Config {
	out := Config{
		ID: c.ID, Kind: c.Kind, Name: c.Name, Description: c.Description, Version: c.Version,
		Priority: c.Priority, Settings: settings, Distribution: NewDistribution(c.Targets),
		ExpiresAt: when(c.ExpiresAt), CreatedAt: when(c.CreatedAt), UpdatedAt: when(c.UpdatedAt),
	}
	if c.Kind == store.KindScript {
		inputs := c.Script.Inputs
		if inputs == nil {
			inputs = map[string]string{}
		}
		out.Script = &ScriptSettings{ScriptID: c.Script.ScriptID, Inputs: inputs, Schedule: c.Script.Schedule,
			When: c.Script.Schedule.String(), RunAs: c.Script.RunAs, Retries: c.Script.Retries}
		if sc != nil {
			out.Script.ScriptName, out.Script.ScriptVersion, out.Script.ScriptSHA256 = sc.Name, sc.Version, sc.SHA256
		}
	}
	if settings != nil {
		for k := range c.Settings {
			out.SettingsSet = append(out.SettingsSet, k)
		}
		slices.Sort(out.SettingsSet)
	}
	return out
}

// Status is a configuration's status on one device.
type Status struct {
	Status    string     `json:"status"`
	Detail    string     `json:"detail,omitempty"`
	Version   int        `json:"version"`
	NextRun   *time.Time `json:"next_run,omitempty"`
	UpdatedAt *time.Time `json:"updated_at,omitempty"`
}

// NewStatus shapes a status.
func NewStatus(st store.DeviceStatus) Status {
	return Status{Status: st.Status, Detail: st.Detail, Version: st.Version, NextRun: when(st.NextRun), UpdatedAt: when(st.UpdatedAt)}
}

// DeviceRef names a device in lists.
type DeviceRef struct {
	ID     string `json:"id"`
	Serial string `json:"serial_number,omitempty"`
	Name   string `json:"name,omitempty"`
	User   string `json:"user,omitempty"`
}

func newDeviceRef(d store.Device) DeviceRef {
	return DeviceRef{ID: d.ID, Serial: d.Facts.SerialNumber, Name: d.Facts.Hostname, User: d.User}
}

// ConfigDeviceRow is one device a configuration reaches.
type ConfigDeviceRow struct {
	Device DeviceRef `json:"device"`
	Status
}

// ConfigDetail is `config show`.
type ConfigDetail struct {
	Config
	Summary server.Summary    `json:"summary"`
	Devices []ConfigDeviceRow `json:"devices"`
}

// NewConfigDetail shapes `config show`.
func NewConfigDetail(d server.ConfigDetail) ConfigDetail {
	out := ConfigDetail{Config: NewConfig(d.Config, d.Settings, d.Script), Summary: d.Summary, Devices: []ConfigDeviceRow{}}
	for _, r := range d.Devices {
		out.Devices = append(out.Devices, ConfigDeviceRow{Device: newDeviceRef(r.Device), Status: NewStatus(r.Status)})
	}
	return out
}

// Device is a device in `devices`.
type Device struct {
	ID           string         `json:"id"`
	Facts        protocol.Facts `json:"facts"`
	User         string         `json:"user,omitempty"`
	DeviceGroups []string       `json:"device_groups"`
	AgentVersion string         `json:"agent_version,omitempty"`
	Capabilities []string       `json:"capabilities"`
	EnrolledAt   *time.Time     `json:"enrolled_at,omitempty"`
	LastCheckin  *time.Time     `json:"last_checkin,omitempty"`
	Left         bool           `json:"left"`
	// Retired says when, by whom and why the administrator cut the
	// device off; absent unless retired.
	Retired *Retirement `json:"retired,omitempty"`
	// ScriptsStopped is why the device runs no script (the brake on
	// scripts); absent when it runs them.
	ScriptsStopped string `json:"scripts_stopped,omitempty"`
}

// Retirement is a device's certificate on the deny list.
type Retirement struct {
	At     *time.Time `json:"at,omitempty"`
	By     string     `json:"by"`
	Reason string     `json:"reason"`
}

// NewDevice shapes a device.
func NewDevice(d store.Device) Device {
	out := Device{ID: d.ID, Facts: d.Facts, User: d.User, DeviceGroups: nonNil(d.Groups), AgentVersion: d.AgentVersion,
		Capabilities: nonNil(d.Capabilities), EnrolledAt: when(d.EnrolledAt), LastCheckin: when(d.LastCheckin), Left: d.Left}
	if r := d.Retired; r != nil {
		out.Retired = &Retirement{At: when(r.At), By: r.By, Reason: r.Reason}
	}
	return out
}

// DeviceConfigRow is one configuration reaching a device.
type DeviceConfigRow struct {
	ID      string `json:"id"`
	Kind    string `json:"kind"`
	Name    string `json:"name"`
	Version int    `json:"version"`
	Status
}

// ConfigRef names a configuration and its version.
type ConfigRef struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Version  int    `json:"version"`
	Priority int    `json:"priority"`
}

// DeviceDetail is `device show`: the device's page.
type DeviceDetail struct {
	Device
	UserName       string             `json:"user_name,omitempty"`
	UserGroups     []string           `json:"user_groups"`
	InEffect       *ConfigRef         `json:"mobileatwork_configuration"` // null: none distributed to the device
	Settings       map[string]string  `json:"settings"`
	Configurations []DeviceConfigRow  `json:"configurations"`
	PackagerApps   []server.AppStatus `json:"packager_apps"`
	InventoryAt    *time.Time         `json:"inventory_received_at,omitempty"`
	Onboarding     *Onboarding        `json:"onboarding"`
	Results        []Result           `json:"recent_results"`
	RecentLog      []LogLine          `json:"recent_log"`
}

// Onboarding is a device's onboarding state in its page.
type Onboarding struct {
	State      string     `json:"state"`
	Outcome    string     `json:"outcome,omitempty"` // done, done_with_failures, timed_out, ... (agents that report it)
	Stages     int        `json:"stages"`
	ReceivedAt *time.Time `json:"received_at,omitempty"`
}

// LogLine is one of the agent's recent warnings or errors.
type LogLine struct {
	Time    *time.Time `json:"time,omitempty"`
	Level   string     `json:"level"`
	Message string     `json:"message"`
}

// NewDeviceDetail shapes `device show`.
func NewDeviceDetail(d server.DeviceDetail) DeviceDetail {
	out := DeviceDetail{
		Device: NewDevice(d.Device), UserName: d.UserName, UserGroups: nonNil(d.UserGroups), Settings: d.Settings,
		Configurations: []DeviceConfigRow{}, PackagerApps: nonNil(d.PackagerApps), InventoryAt: when(d.InventoryAt),
		Results: []Result{}, RecentLog: []LogLine{},
	}
	out.ScriptsStopped = d.ScriptsStopped
	if d.InEffect != nil {
		out.InEffect = &ConfigRef{ID: d.InEffect.ID, Name: d.InEffect.Name, Version: d.InEffect.Version, Priority: d.InEffect.Priority}
	}
	for _, r := range d.Configurations {
		out.Configurations = append(out.Configurations, DeviceConfigRow{ID: r.Config.ID, Kind: r.Config.Kind, Name: r.Config.Name, Version: r.Config.Version, Status: NewStatus(r.Status)})
	}
	if d.Onboarding != nil {
		out.Onboarding = &Onboarding{State: d.Onboarding.State, Stages: len(d.Onboarding.Stages), ReceivedAt: when(d.Onboarding.ReceivedAt)}
		if pr := d.Onboarding.Progress; pr != nil {
			out.Onboarding.Outcome = pr.Outcome
		}
	}
	for _, r := range d.Results {
		out.Results = append(out.Results, NewResult(r, ""))
	}
	for _, l := range d.Device.RecentLog {
		out.RecentLog = append(out.RecentLog, LogLine{Time: when(l.Time), Level: l.Level, Message: l.Message})
	}
	return out
}

// Result is one run's result.
type Result struct {
	RunID         string     `json:"run_id"`
	DeviceID      string     `json:"device_id"`
	ConfigID      string     `json:"config_id"`
	ConfigName    string     `json:"config_name,omitempty"`
	ConfigVersion int        `json:"config_version"`
	ScriptID      string     `json:"script_id"`
	ScriptSHA256  string     `json:"script_sha256,omitempty"` // of the body that ran
	Occurrence    *time.Time `json:"occurrence"`              // null for run-once
	Status        string     `json:"status"`
	ExitCode      int        `json:"exit_code"`
	StartedAt     *time.Time `json:"started_at,omitempty"`
	FinishedAt    *time.Time `json:"finished_at,omitempty"`
	DurationMS    int64      `json:"duration_ms"`
	Stdout        string     `json:"stdout"`
	Stderr        string     `json:"stderr"`
	StdoutBytes   int64      `json:"stdout_bytes"`
	StderrBytes   int64      `json:"stderr_bytes"`
	Truncated     bool       `json:"truncated"`
	InvalidUTF8   bool       `json:"invalid_utf8"`
	Error         string     `json:"error"`
	Waiting       string     `json:"waiting,omitempty"` // the run has not happened yet: console_user
	ReceivedAt    *time.Time `json:"received_at,omitempty"`
	// AssignmentID and AssignmentVersion repeat ConfigID and ConfigVersion
	// under the names of releases before configurations.
	AssignmentID      string `json:"assignment_id"`
	AssignmentVersion int    `json:"assignment_version"`
	// Attempt is the run's attempt (0: a run without retries); RetryAt
	// when the next one follows.
	Attempt int        `json:"attempt,omitempty"`
	RetryAt *time.Time `json:"retry_at,omitempty"`
}

// NewResult shapes a result; configName may be empty.
func NewResult(r store.StoredResult, configName string) Result {
	return Result{
		RunID: r.RunID, DeviceID: r.DeviceID, ConfigID: r.AssignmentID, ConfigName: configName, ConfigVersion: r.AssignmentVersion,
		ScriptID: r.ScriptID, ScriptSHA256: r.ScriptSHA256, Occurrence: when(r.Occurrence), Status: r.Status,
		ExitCode: r.ExitCode, StartedAt: when(r.StartedAt), FinishedAt: when(r.FinishedAt), DurationMS: r.DurationMS,
		Stdout: r.Stdout, Stderr: r.Stderr, StdoutBytes: r.StdoutBytes, StderrBytes: r.StderrBytes,
		Truncated: r.Truncated, InvalidUTF8: r.InvalidUTF8, Error: r.Error, Waiting: r.Waiting, ReceivedAt: when(r.ReceivedAt),
		AssignmentID: r.AssignmentID, AssignmentVersion: r.AssignmentVersion,
		Attempt: r.Attempt, RetryAt: when(r.RetryAt),
	}
}

// Script is a script of the repository.
type Script struct {
	ID          string      `json:"id"`
	Name        string      `json:"name"`
	Description string      `json:"description"`
	Version     int         `json:"version"`
	SHA256      string      `json:"sha256"`
	Size        int64       `json:"size"`
	Inputs      []Input     `json:"inputs"`
	CreatedAt   *time.Time  `json:"created_at,omitempty"`
	UpdatedAt   *time.Time  `json:"updated_at,omitempty"`
	UsedBy      []ConfigRef `json:"used_by,omitempty"`
	// Versions are the bodies the script has had, oldest first (script
	// show only).
	Versions []ScriptVersion `json:"versions,omitempty"`
}

// ScriptVersion is one body a script has had.
type ScriptVersion struct {
	Version   int        `json:"version"`
	SHA256    string     `json:"sha256"`
	Size      int64      `json:"size"`
	CreatedAt *time.Time `json:"created_at,omitempty"`
}

// NewScriptVersion shapes a version.
func NewScriptVersion(v store.ScriptVersion) ScriptVersion {
	return ScriptVersion{Version: v.Version, SHA256: v.SHA256, Size: v.Size, CreatedAt: when(v.CreatedAt)}
}

// Input is a declared script input.
type Input struct {
	Label   string `json:"label"`
	Name    string `json:"name"`
	Default string `json:"default"`
}

// NewScript shapes a script; usedBy may be nil.
func NewScript(sc store.Script, usedBy []store.Configuration) Script {
	out := Script{ID: sc.ID, Name: sc.Name, Description: sc.Description, Version: sc.Version, SHA256: sc.SHA256,
		Size: sc.Size, Inputs: []Input{}, CreatedAt: when(sc.CreatedAt), UpdatedAt: when(sc.UpdatedAt)}
	for _, in := range sc.Inputs {
		out.Inputs = append(out.Inputs, Input{Label: in.Label, Name: in.Name, Default: in.Default})
	}
	if usedBy != nil {
		out.UsedBy = []ConfigRef{}
		for _, c := range usedBy {
			out.UsedBy = append(out.UsedBy, ConfigRef{ID: c.ID, Name: c.Name, Version: c.Version})
		}
	}
	return out
}

// Token is an enrollment token, never its secret.
type Token struct {
	ID        string     `json:"id"`
	User      string     `json:"user,omitempty"`
	UsesLeft  int        `json:"uses_left"`
	State     string     `json:"state"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	CreatedAt *time.Time `json:"created_at,omitempty"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// NewToken shapes a token.
func NewToken(t server.TokenInfo) Token {
	return Token{ID: t.ID, User: t.User, UsesLeft: t.UsesLeft, State: t.State, ExpiresAt: when(t.ExpiresAt),
		CreatedAt: when(t.CreatedAt), RevokedAt: when(t.RevokedAt)}
}

// User is a user.
type User struct {
	Email     string     `json:"email"`
	Name      string     `json:"name,omitempty"`
	CreatedAt *time.Time `json:"created_at,omitempty"`
}

// NewUser shapes a user.
func NewUser(u store.User) User {
	return User{Email: u.Email, Name: u.Name, CreatedAt: when(u.CreatedAt)}
}

// UserGroup is a user group with its members.
type UserGroup struct {
	Name        string     `json:"name"`
	Description string     `json:"description,omitempty"`
	Members     []string   `json:"members"`
	CreatedAt   *time.Time `json:"created_at,omitempty"`
}

// NewUserGroup shapes a user group.
func NewUserGroup(g store.UserGroup) UserGroup {
	return UserGroup{Name: g.Name, Description: g.Description, Members: nonNil(g.Members), CreatedAt: when(g.CreatedAt)}
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
