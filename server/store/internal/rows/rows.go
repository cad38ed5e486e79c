// Package rows holds what the store backends encode alike: the JSON
// columns of a configuration and of a check-in.
package rows

import (
	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// Marshal encodes a value for a JSON column, as the backend stores JSON.
type Marshal func(v any) (string, error)

// Config is a configuration's columns in their stored form.
type Config struct {
	Settings, Inputs, Schedule string
	ScriptID                   any // NULL for a Mobile@Work configuration
}

// EncodeConfig encodes c's JSON columns; nil maps are stored as {}.
func EncodeConfig(c store.Configuration, marshal Marshal) (Config, error) {
	var r Config
	settings := c.Settings
	if settings == nil {
		settings = map[string]string{}
	}
	inputs := c.Script.Inputs
	if inputs == nil {
		inputs = map[string]string{}
	}
	var err error
	if r.Settings, err = marshal(settings); err != nil {
		return r, err
	}
	if r.Inputs, err = marshal(inputs); err != nil {
		return r, err
	}
	if r.Schedule, err = marshal(c.Script.Schedule); err != nil {
		return r, err
	}
	if c.Script.ScriptID != "" {
		r.ScriptID = c.Script.ScriptID
	}
	return r, nil
}

// Checkin is a check-in's JSON columns.
type Checkin struct{ Facts, Capabilities, RecentLog string }

// EncodeCheckin encodes c's JSON columns; nil lists are stored as [].
func EncodeCheckin(c store.Checkin, marshal Marshal) (Checkin, error) {
	var r Checkin
	caps := c.Capabilities
	if caps == nil {
		caps = []string{}
	}
	logLines := c.RecentLog
	if logLines == nil {
		logLines = []protocol.LogLine{}
	}
	var err error
	if r.Facts, err = marshal(c.Facts); err != nil {
		return r, err
	}
	if r.Capabilities, err = marshal(caps); err != nil {
		return r, err
	}
	r.RecentLog, err = marshal(logLines)
	return r, err
}

// GenerationTables are the tables check-in payloads are built from
// tenant-wide: each backend's triggers bump the store generation at every
// change to them (users' names aside, which their own triggers watch). The
// list is part of released migrations of both backends: a table added
// later gets its triggers in a new migration of each, not by growing it.
var GenerationTables = []string{
	"configurations", "config_targets", "scripts",
	"apps", "app_details", "app_reviews", "app_distributions",
	"profiles", "profile_targets", "user_groups", "user_group_members",
}
