package accounts

import "time"

// A console session ends after IdleTimeout without a request, and
// AbsoluteTimeout after the login whatever the activity.
const (
	IdleTimeout     = 30 * time.Minute
	AbsoluteTimeout = 12 * time.Hour
)

// SessionExpiry is when a session created at created and last seen at
// lastSeen ends: the earlier of its idle and absolute limits.
func SessionExpiry(created, lastSeen time.Time) time.Time {
	idle, abs := lastSeen.Add(IdleTimeout), created.Add(AbsoluteTimeout)
	if idle.Before(abs) {
		return idle
	}
	return abs
}

// TouchEvery is how often a token's or session's last use is written: a
// busy client does not write at each request.
const TouchEvery = time.Minute
