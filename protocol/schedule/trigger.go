package schedule

import (
	"fmt"
	"strings"
)

// MaxEventName is the longest event name: 1 to 64 characters of
// [A-Za-z0-9._-].
const MaxEventName = 64

// ValidEventName reports whether name may name an event. The check is a
// loop rather than a regexp with a bounded repetition, which costs at
// start-up on both sides.
func ValidEventName(name string) error {
	if name == "" || len(name) > MaxEventName {
		return fmt.Errorf("event name %q: want 1 to %d characters", clip(name), MaxEventName)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("event name %q: only letters, digits, '.', '_' and '-' are allowed", clip(name))
		}
	}
	return nil
}

// clip keeps an error message short whatever was typed.
func clip(s string) string {
	if len(s) > MaxEventName+16 {
		return s[:MaxEventName+16] + "..."
	}
	return s
}

// ParseTrigger builds a triggered Spec from `--on`: enrollment, login,
// network or event:NAME. The kind is read without case; an event's name is
// kept as given, and `mobileatwork event` must name it exactly.
func ParseTrigger(on string) (Spec, error) {
	kind, name, hasName := strings.Cut(strings.TrimSpace(on), ":")
	s := Spec{Kind: strings.ToLower(kind)}
	switch s.Kind {
	case Enrollment, Login, Network:
		if hasName {
			return Spec{}, invalid("--on %s takes no name (only event:NAME does)", s.Kind)
		}
	case Event:
		if !hasName {
			return Spec{}, invalid("--on event needs a name: event:NAME")
		}
		s.Event = name
	default:
		return Spec{}, invalid("--on %q: want enrollment, login, network or event:NAME", clip(on))
	}
	if err := s.Validate(); err != nil {
		return Spec{}, err
	}
	return s, nil
}
