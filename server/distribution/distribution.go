// Package distribution is the one model of "who gets it" that every
// distributed object shares (Mobile@Work and script configurations, catalog
// apps): a list of targets, and the one resolver that says whether a list
// reaches a device.
//
// A distribution is everyone ({all}), no one (the empty list), or any mix of
// users, user groups, devices and device groups.
package distribution

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// ErrInvalid is wrapped by every refusal of a target.
var ErrInvalid = errors.New("invalid distribution")

// Target kinds, as written on the command line before the colon.
const (
	All         = "all"
	None        = "none" // only on the command line: it is stored as no target
	Device      = "device"
	DeviceGroup = "group"
	User        = "user"
	UserGroup   = "usergroup"
)

// Target is one entry of a distribution. Value is a device id, a device
// group name, a user email (lower case) or a user group name; empty for All.
type Target struct {
	Kind  string `json:"kind"`
	Value string `json:"value,omitempty"`
}

func (t Target) String() string {
	if t.Kind == All {
		return All
	}
	return t.Kind + ":" + t.Value
}

// Audience is what the resolver needs to know about a device.
type Audience struct {
	DeviceID     string
	DeviceGroups []string
	User         string // email, lower case; empty when the device has no user
	UserGroups   []string
}

// Reaches tells whether the targets include the device. Group names are
// exact; emails compare without case.
func Reaches(targets []Target, a Audience) bool {
	for _, t := range targets {
		switch t.Kind {
		case All:
			return true
		case Device:
			if t.Value == a.DeviceID {
				return true
			}
		case DeviceGroup:
			if slices.Contains(a.DeviceGroups, t.Value) {
				return true
			}
		case User:
			if a.User != "" && strings.EqualFold(t.Value, a.User) {
				return true
			}
		case UserGroup:
			if slices.Contains(a.UserGroups, t.Value) {
				return true
			}
		}
	}
	return false
}

// Parse reads the words of repeated `--to` flags, each a comma-separated
// list of all, none, device:ID, group:NAME, user:EMAIL or usergroup:NAME.
// The result is sorted and free of duplicates; {all} absorbs nothing else
// (all mixed with other targets is refused, as is none mixed with anything),
// and none is the empty list.
func Parse(words []string) ([]Target, error) {
	if len(words) == 0 {
		return nil, fmt.Errorf("%w: --to is required: all, none, device:ID, group:NAME, user:EMAIL or usergroup:NAME", ErrInvalid)
	}
	var out []Target
	var none, all bool
	seen := map[Target]bool{}
	for _, w := range words {
		for _, item := range strings.Split(w, ",") {
			item = strings.TrimSpace(item)
			t, err := parseOne(item)
			if err != nil {
				return nil, err
			}
			switch t.Kind {
			case None:
				none = true
				continue
			case All:
				all = true
			}
			if !seen[t] {
				seen[t] = true
				out = append(out, t)
			}
		}
	}
	switch {
	case none && (all || len(out) > 0):
		return nil, fmt.Errorf("%w: --to none cannot be mixed with other targets", ErrInvalid)
	case all && len(out) > 1:
		return nil, fmt.Errorf("%w: --to all already reaches every device: give it alone", ErrInvalid)
	}
	Sort(out)
	return out, nil
}

func parseOne(item string) (Target, error) {
	switch item {
	case All, None:
		return Target{Kind: item}, nil
	case "":
		return Target{}, fmt.Errorf("%w: empty target in --to", ErrInvalid)
	}
	k, v, ok := strings.Cut(item, ":")
	v = strings.TrimSpace(v)
	if ok && v != "" {
		switch k {
		case Device, DeviceGroup, UserGroup:
			return Target{Kind: k, Value: v}, nil
		case User:
			if !strings.Contains(v, "@") {
				return Target{}, fmt.Errorf("%w: --to %q: %q is not an email address", ErrInvalid, item, v)
			}
			return Target{Kind: k, Value: strings.ToLower(v)}, nil
		}
	}
	return Target{}, fmt.Errorf("%w: --to %q: want all, none, device:ID, group:NAME, user:EMAIL or usergroup:NAME", ErrInvalid, item)
}

// Sort orders targets by kind, then value, so equal distributions compare
// and print alike.
func Sort(ts []Target) {
	sort.Slice(ts, func(i, j int) bool {
		if ts[i].Kind != ts[j].Kind {
			return ts[i].Kind < ts[j].Kind
		}
		return ts[i].Value < ts[j].Value
	})
}

// String describes a distribution for a table: "all", "none" or the targets.
func String(ts []Target) string {
	if len(ts) == 0 {
		return None
	}
	parts := make([]string, len(ts))
	for i, t := range ts {
		parts[i] = t.String()
	}
	return strings.Join(parts, ",")
}

// Level names the distribution level the product documentation uses:
// everyone, no one, or custom.
func Level(ts []Target) string {
	switch {
	case len(ts) == 0:
		return "none"
	case len(ts) == 1 && ts[0].Kind == All:
		return "all"
	}
	return "custom"
}
