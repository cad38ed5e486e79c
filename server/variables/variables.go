// Package variables resolves the {$name} placeholders that script input values
// may hold, per device, on the server. Values are substituted in one pass and
// never re-scanned, so a device-controlled value (a hostname, say) cannot
// smuggle in another placeholder; and they reach the script as arguments, not
// as script text.
package variables

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// ErrUnknown is returned for a placeholder that is not a known variable.
var ErrUnknown = errors.New("unknown variable")

// Names of the supported variables.
const (
	UserWorkEmailAddress = "userWorkEmailAddress"
	UserUID              = "userUID"
	UserDisplayName      = "userDisplayName"
	DeviceSerialNumber   = "deviceSerialNumber"
	DeviceName           = "deviceName"
	DeviceID             = "deviceId"
)

var known = []string{UserWorkEmailAddress, UserUID, UserDisplayName, DeviceSerialNumber, DeviceName, DeviceID}

var placeholder = regexp.MustCompile(`\{\$([A-Za-z0-9_]*)\}`)

// Known lists the variables, each as {$name}.
func Known() []string {
	out := make([]string, len(known))
	for i, k := range known {
		out[i] = "{$" + k + "}"
	}
	sort.Strings(out)
	return out
}

func isKnown(name string) bool {
	for _, k := range known {
		if k == name {
			return true
		}
	}
	return false
}

// Check refuses a value that names an unknown variable, listing the known ones.
func Check(value string) error {
	for _, m := range placeholder.FindAllStringSubmatch(value, -1) {
		if !isKnown(m[1]) {
			return fmt.Errorf("%w {$%s}; known variables: %s", ErrUnknown, m[1], strings.Join(Known(), ", "))
		}
	}
	return nil
}

// Resolve replaces every known placeholder with its value in vals (missing
// values become empty strings). Unknown placeholders are left as they are:
// Check refuses them before they are stored.
func Resolve(value string, vals map[string]string) string {
	return placeholder.ReplaceAllStringFunc(value, func(m string) string {
		name := m[2 : len(m)-1]
		if !isKnown(name) {
			return m
		}
		return vals[name]
	})
}
