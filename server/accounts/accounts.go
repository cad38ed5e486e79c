// Package accounts is the pure logic of the tenant's administrator
// accounts: roles and what each may do, password hashing, the secrets of
// API tokens and sessions, the login lockout and session expiry. It keeps
// nothing; the server stores what it decides.
package accounts

import (
	"fmt"
	"strings"
)

// Role is what an account or API token may do.
type Role string

// The roles, from the most to the least powerful.
const (
	RoleAdmin    Role = "admin"
	RoleOperator Role = "operator"
	RoleAuditor  Role = "auditor"
)

// Roles lists every role, the most powerful first.
var Roles = []Role{RoleAdmin, RoleOperator, RoleAuditor}

// ParseRole reads a role name as given on the command line.
func ParseRole(s string) (Role, error) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	for _, known := range Roles {
		if r == known {
			return r, nil
		}
	}
	return "", fmt.Errorf("role %q: want admin, operator or auditor", s)
}

// Class is the kind of request a role is checked against.
type Class int

const (
	// ClassRead reads the tenant: listings, details, results, the audit log.
	ClassRead Class = iota
	// ClassOperate runs the fleet: scripts, configurations, run now, cancel.
	ClassOperate
	// ClassAdmin administers the tenant: accounts, API tokens, enrollment,
	// the tenant's settings.
	ClassAdmin
)

// Can is the one rule of what a role may do: an admin everything, an
// operator reads and operates, an auditor only reads. An unknown role may
// do nothing.
func (r Role) Can(c Class) bool {
	switch r {
	case RoleAdmin:
		return c == ClassRead || c == ClassOperate || c == ClassAdmin
	case RoleOperator:
		return c == ClassRead || c == ClassOperate
	case RoleAuditor:
		return c == ClassRead
	}
	return false
}

// maxName bounds account and API token names.
const maxName = 64

// CheckName checks an account or API token name and returns it in lower
// case, so that "Ada" and "ada" are one name: 1 to 64 letters, digits, '.',
// '_', '-' or '@'.
func CheckName(what, name string) (string, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	if n == "" || len(n) > maxName {
		return "", fmt.Errorf("%s name %q: give 1 to %d characters", what, name, maxName)
	}
	for _, r := range n {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune("._-@", r)) {
			return "", fmt.Errorf("%s name %q: use letters, digits, '.', '_', '-' or '@'", what, name)
		}
	}
	return n, nil
}
