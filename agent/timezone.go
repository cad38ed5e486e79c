package agent

import (
	"os"
	"strings"
	"time"
)

// deviceTimeZone is the IANA name of the zone the agent computes "local"
// schedules in (time.Local), so the server can predict the same runs.
func deviceTimeZone() string { return zoneName(time.Local.String(), os.Readlink) }

// zoneName returns local when it is a zone name (TZ=Europe/Paris, or a path
// into a zoneinfo tree), else the zone /etc/localtime links to: on macOS
// .../zoneinfo/Area/City, on Linux .../share/zoneinfo/Area/City. "" when
// neither names a zone.
func zoneName(local string, readlink func(string) (string, error)) string {
	if local != "Local" {
		if name, ok := zoneFromPath(local); ok {
			return name
		}
	}
	target, err := readlink("/etc/localtime")
	if err != nil {
		return ""
	}
	if i := strings.LastIndex(target, "zoneinfo/"); i >= 0 {
		if name, ok := zoneFromPath(target[i+len("zoneinfo/"):]); ok {
			return name
		}
	}
	return ""
}

// zoneFromPath accepts Area/City names (and UTC), after any zoneinfo/ and
// posix/ or right/ prefix.
func zoneFromPath(s string) (string, bool) {
	if i := strings.LastIndex(s, "zoneinfo/"); i >= 0 {
		s = s[i+len("zoneinfo/"):]
	}
	s = strings.TrimPrefix(strings.TrimPrefix(s, "posix/"), "right/")
	if s == "" || s == "Local" || strings.HasPrefix(s, "/") || strings.Contains(s, "..") {
		return "", false
	}
	return s, true
}
