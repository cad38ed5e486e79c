// Package settings validates the tenant's Mobile@Work configuration keys and
// turns the stored pairs into the protocol.Config devices receive.
package settings

import (
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/mobileatwork/mobileatwork/protocol"
)

// ErrInvalid is wrapped by every validation error.
var ErrInvalid = errors.New("invalid configuration")

type kind int

const (
	kindInt kind = iota
	kindBool
	kindURL
)

type key struct {
	kind     kind
	min, max int
	def      string
	help     string
}

// keys lists every settable key with its range and documented default.
var keys = map[string]key{
	"checkin_interval_minutes":         {kindInt, 1, 24 * 60, "15", "how often devices check in, in minutes"},
	"max_execution_seconds":            {kindInt, 1, 24 * 3600, "60", "maximum run time of a script, in seconds"},
	"max_response_kb":                  {kindInt, 1, 1024, "1", "cap on stdout and on stderr of a script, in KB each"},
	"kill_grace_seconds":               {kindInt, 1, 300, "5", "time between SIGTERM and SIGKILL when a script times out"},
	"onboarding.enabled":               {kind: kindBool, def: "false", help: "run the staged onboarding after automated enrollment"},
	"onboarding.setup_timeout_seconds": {kindInt, 10, 24 * 3600, "120", "how long onboarding may keep the Mac in kiosk mode"},
	"onboarding.window_minutes":        {kindInt, 1, 24 * 60, "20", "onboarding starts only this long after registration"},
	"onboarding.landing_url":           {kind: kindURL, def: "", help: "page opened when onboarding ends (http or https URL)"},
	"uninstall.remove_managed_apps":    {kind: kindBool, def: "false", help: "uninstalling the agent also removes the apps it installed (managed apps only)"},
	ScriptsEnabled:                     {kind: kindBool, def: "true", help: "devices run scripts; false stops them all and the one running (the brake on scripts)"},
}

// ScriptsEnabled is the key of the brake on scripts in a Mobile@Work
// configuration.
const ScriptsEnabled = "scripts.enabled"

// ScriptsDisabledReason is why scripts are stopped on a device whose
// Mobile@Work configuration in effect sets scripts.enabled=false.
const ScriptsDisabledReason = "scripts.enabled is false in the Mobile@Work configuration in effect"

// Keys returns the settable keys, sorted.
func Keys() []string {
	out := make([]string, 0, len(keys))
	for k := range keys {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Help describes a key, for `config show` and error messages.
func Help(k string) string { return keys[k].help }

// Defaults returns every key with its documented default.
func Defaults() map[string]string {
	out := make(map[string]string, len(keys))
	for k, d := range keys {
		out[k] = d.def
	}
	return out
}

// ParseAssignments parses KEY=VALUE words and validates every pair; on any
// error nothing is returned, so the caller changes nothing.
func ParseAssignments(words []string) (map[string]string, error) {
	if len(words) == 0 {
		return nil, fmt.Errorf("%w: nothing to set; give KEY=VALUE (keys: %s)", ErrInvalid, strings.Join(Keys(), ", "))
	}
	return Parse(words)
}

// Parse is ParseAssignments that accepts no words at all.
func Parse(words []string) (map[string]string, error) {
	out := make(map[string]string, len(words))
	for _, w := range words {
		k, v, ok := strings.Cut(w, "=")
		if !ok {
			return nil, fmt.Errorf("%w: %q is not KEY=VALUE", ErrInvalid, w)
		}
		norm, err := Validate(strings.TrimSpace(k), strings.TrimSpace(v))
		if err != nil {
			return nil, err
		}
		out[strings.TrimSpace(k)] = norm
	}
	return out, nil
}

// Validate checks one pair and returns the value in canonical form.
func Validate(k, v string) (string, error) {
	d, ok := keys[k]
	if !ok {
		return "", fmt.Errorf("%w: unknown key %q (keys: %s)", ErrInvalid, k, strings.Join(Keys(), ", "))
	}
	switch d.kind {
	case kindInt:
		n, err := strconv.Atoi(v)
		if err != nil {
			return "", fmt.Errorf("%w: %s=%q is not a whole number", ErrInvalid, k, v)
		}
		if n < d.min || n > d.max {
			return "", fmt.Errorf("%w: %s=%d is out of range %d..%d", ErrInvalid, k, n, d.min, d.max)
		}
		return strconv.Itoa(n), nil
	case kindBool:
		b, err := strconv.ParseBool(v)
		if err != nil {
			return "", fmt.Errorf("%w: %s=%q is not true or false", ErrInvalid, k, v)
		}
		return strconv.FormatBool(b), nil
	case kindURL:
		if v == "" {
			return "", nil
		}
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return "", fmt.Errorf("%w: %s=%q is not an http(s) URL", ErrInvalid, k, v)
		}
		return u.String(), nil
	}
	return "", fmt.Errorf("%w: %s has no type", ErrInvalid, k)
}

// IsKey tells whether k is a Mobile@Work configuration key.
func IsKey(k string) bool { _, ok := keys[k]; return ok }

// Merge overlays stored pairs on the defaults.
func Merge(stored map[string]string) map[string]string {
	out := Defaults()
	for k, v := range stored {
		if _, ok := keys[k]; ok {
			out[k] = v
		}
	}
	return out
}

// DeviceConfig is the part of the configuration scripts and check-ins need.
func DeviceConfig(stored map[string]string) protocol.Config {
	m := Merge(stored)
	n := func(k string) int { v, _ := strconv.Atoi(m[k]); return v }
	c := protocol.Config{
		CheckinIntervalMinutes: n("checkin_interval_minutes"),
		MaxExecutionSeconds:    n("max_execution_seconds"),
		MaxResponseKB:          n("max_response_kb"),
		KillGraceSeconds:       n("kill_grace_seconds"),
		RemoveManagedApps:      m["uninstall.remove_managed_apps"] == "true",
	}
	if m[ScriptsEnabled] == "false" {
		c.ScriptsStopped, c.ScriptsStoppedReason = true, ScriptsDisabledReason
	}
	return c
}

// Spec describes one key for forms that edit it (the web console).
type Spec struct {
	Key     string `json:"key"`
	Type    string `json:"type"` // int, bool or url
	Min     int    `json:"min,omitempty"`
	Max     int    `json:"max,omitempty"`
	Default string `json:"default"`
	Help    string `json:"help"`
}

// Specs describes every key, sorted by key.
func Specs() []Spec {
	out := make([]Spec, 0, len(keys))
	for _, k := range Keys() {
		d := keys[k]
		sp := Spec{Key: k, Default: d.def, Help: d.help}
		switch d.kind {
		case kindInt:
			sp.Type, sp.Min, sp.Max = "int", d.min, d.max
		case kindBool:
			sp.Type = "bool"
		case kindURL:
			sp.Type = "url"
		}
		out = append(out, sp)
	}
	return out
}
