package inventory

import (
	"bufio"
	"bytes"
	"strconv"
	"strings"
)

// Facts identify the device an inventory belongs to.
type Facts struct {
	SerialNumber string `json:"serial_number"`
	Model        string `json:"model"`
	OSVersion    string `json:"os_version"`
	OSBuild      string `json:"os_build"`
	Hostname     string `json:"hostname"`
	AgentVersion string `json:"agent_version"`
}

// parseIoregSerial finds IOPlatformSerialNumber in the output of
// `ioreg -rd1 -c IOPlatformExpertDevice`, whose lines look like
//
//	"IOPlatformSerialNumber" = "C02XK0AAJGH5"
func parseIoregSerial(out []byte) string {
	const key = `"IOPlatformSerialNumber"`
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		rest, ok := strings.CutPrefix(line, key)
		if !ok {
			continue
		}
		rest, ok = strings.CutPrefix(strings.TrimSpace(rest), "=")
		if !ok {
			continue
		}
		if v, err := strconv.Unquote(strings.TrimSpace(rest)); err == nil {
			return v
		}
	}
	return ""
}

// parseOSRelease returns the value of key in an os-release(5) file.
func parseOSRelease(b []byte, key string) string {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if !ok || k != key {
			continue
		}
		if u, err := strconv.Unquote(v); err == nil {
			return u
		}
		return strings.Trim(v, `'"`)
	}
	return ""
}

// placeholderSerials are what firmware vendors leave in the serial field of
// machines that have none; they identify nothing.
var placeholderSerials = map[string]bool{
	"":                       true,
	"0":                      true,
	"None":                   true,
	"Not Specified":          true,
	"Not Applicable":         true,
	"Default string":         true,
	"System Serial Number":   true,
	"To be filled by O.E.M.": true,
}
