package accounts

import "time"

// The login lockout: MaxFailures failed logins within FailureWindow lock
// the account for LockDuration.
const (
	MaxFailures   = 5
	FailureWindow = 15 * time.Minute
	LockDuration  = 15 * time.Minute
)

// Lockout is an account's record of failed logins.
type Lockout struct {
	Failures       int       // within the window that started at FirstFailureAt
	FirstFailureAt time.Time // zero without failures
	LockedUntil    time.Time // zero or past when not locked
}

// Locked tells whether a login at now is refused whatever the password.
func (l Lockout) Locked(now time.Time) bool { return now.Before(l.LockedUntil) }

// Fail records a failed login at now and tells whether it locked the
// account. A failure after the window has passed starts a new window.
func (l Lockout) Fail(now time.Time) (next Lockout, locked bool) {
	if l.Failures == 0 || !now.Before(l.FirstFailureAt.Add(FailureWindow)) {
		l.Failures, l.FirstFailureAt = 0, now
	}
	l.Failures++
	if l.Failures >= MaxFailures && !l.Locked(now) {
		l.LockedUntil = now.Add(LockDuration)
		// The window starts again once the lock is over.
		l.Failures, l.FirstFailureAt = 0, time.Time{}
		return l, true
	}
	return l, false
}

// Succeed is the record after a login that succeeded: failures forgotten.
func (l Lockout) Succeed() Lockout { return Lockout{} }
