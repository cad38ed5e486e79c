// Package schedule computes when an assignment runs: once, or daily/weekly at
// a wall-clock time in the device's zone or UTC, between two dates, or on a
// trigger the device observes (enrollment, login, network change, a named
// event).
//
// The same code validates a schedule on the server (at assignment) and decides
// on the agent what is due, so both sides always agree on what a Spec means.
package schedule

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Kinds of schedule.
const (
	Once   = "once"
	Daily  = "daily"
	Weekly = "weekly"
	// Triggers: the agent runs the script when the device observes them.
	Enrollment = "enrollment" // once, right after the device enrolled
	Login      = "login"      // at each login of a console user
	Network    = "network"    // at each change of the machine's network addresses
	Event      = "event"      // at each `mobileatwork event NAME` of the Spec's Event
)

// Zones a recurring schedule is evaluated in.
const (
	Local = "local" // the device's own zone; the default for a recurring schedule
	UTC   = "utc"
)

// ErrInvalid is wrapped by every validation error, so callers can tell a bad
// schedule (a client error) from any other failure with errors.Is.
var ErrInvalid = errors.New("invalid schedule")

// Spec is a schedule as it travels on the wire and is stored by the server.
type Spec struct {
	Kind  string   `json:"kind"`            // once | daily | weekly
	At    string   `json:"at,omitempty"`    // HH:MM, 24 h
	Days  []string `json:"days,omitempty"`  // weekly: mon..sun
	TZ    string   `json:"tz,omitempty"`    // local | utc
	Start string   `json:"start,omitempty"` // YYYY-MM-DD, inclusive
	End   string   `json:"end,omitempty"`   // YYYY-MM-DD, inclusive
	Event string   `json:"event,omitempty"` // event: the event's name
}

// dayNames lists the accepted day names in schedule order (the week starts on
// Monday, as in the console), indexed by position, not by time.Weekday.
var dayNames = [7]string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

const dateLayout = "2006-01-02"

// Parse builds a Spec from user input (console, CLI flags) and validates it.
// It normalises what has one obvious meaning: kind, zone and day names are
// trimmed and lower-cased, days are deduplicated and sorted mon..sun, and a
// recurring schedule without a zone gets "local". Anything else that is wrong
// is refused rather than guessed.
func Parse(kind, at string, days []string, tz, start, end string) (Spec, error) {
	s := Spec{
		Kind:  strings.ToLower(strings.TrimSpace(kind)),
		At:    strings.TrimSpace(at),
		TZ:    strings.ToLower(strings.TrimSpace(tz)),
		Start: strings.TrimSpace(start),
		End:   strings.TrimSpace(end),
	}
	if len(days) > 0 {
		norm := make([]string, 0, len(days))
		for _, d := range days {
			norm = append(norm, strings.ToLower(strings.TrimSpace(d)))
		}
		slices.SortStableFunc(norm, func(a, b string) int { return dayIndex(a) - dayIndex(b) })
		s.Days = slices.Compact(norm)
	}
	if s.Recurring() && s.TZ == "" {
		s.TZ = Local
	}
	if err := s.Validate(); err != nil {
		return Spec{}, err
	}
	return s, nil
}

// dayIndex returns the position of a day name in dayNames, or 7 for an unknown
// name so that unknown names sort last (and are then refused by Validate).
func dayIndex(name string) int {
	if i := slices.Index(dayNames[:], name); i >= 0 {
		return i
	}
	return len(dayNames)
}

// Validate reports whether s is a schedule the agent can run. Every error
// wraps ErrInvalid.
//
// A once schedule runs when the device receives it, so it must carry no time,
// days, zone or dates: silently ignoring them would hide a mistake by the
// administrator. A daily schedule must not list days. Start and End are
// optional (an open range); when both are set, End must not be before Start.
func (s Spec) Validate() error {
	_, err := s.compile()
	return err
}

// Recurring reports whether s runs more than once (daily or weekly).
func (s Spec) Recurring() bool { return s.Kind == Daily || s.Kind == Weekly }

// Triggered reports whether s runs on a trigger the device observes
// (enrollment, login, network, event) rather than at a time.
func (s Spec) Triggered() bool {
	switch s.Kind {
	case Enrollment, Login, Network, Event:
		return true
	}
	return false
}

// Single reports whether s runs at most once per assignment version: a
// once schedule, or enrollment, which happens once per enrollment. The
// others repeat, so a device that ran one has not finished it.
func (s Spec) Single() bool {
	switch s.Kind {
	case Daily, Weekly, Login, Network, Event:
		return false
	}
	return true
}

// String describes s for people, e.g.
// "daily at 09:00 (local) from 2027-01-01 to 2027-01-31" or
// "weekly on mon,fri at 18:30 (utc)".
func (s Spec) String() string {
	switch s.Kind {
	case Enrollment:
		return "on enrollment"
	case Login:
		return "at each login"
	case Network:
		return "at each network change"
	case Event:
		return "on event " + s.Event
	}
	if !s.Recurring() {
		if s.Kind == "" {
			return "(no schedule)"
		}
		return s.Kind
	}
	var b strings.Builder
	b.WriteString(s.Kind)
	if s.Kind == Weekly {
		b.WriteString(" on " + strings.Join(s.Days, ","))
	}
	tz := s.TZ
	if tz == "" {
		tz = Local
	}
	fmt.Fprintf(&b, " at %s (%s)", s.At, tz)
	switch {
	case s.Start != "" && s.End != "":
		fmt.Fprintf(&b, " from %s to %s", s.Start, s.End)
	case s.Start != "":
		fmt.Fprintf(&b, " from %s", s.Start)
	case s.End != "":
		fmt.Fprintf(&b, " until %s", s.End)
	}
	return b.String()
}

// plan is a validated Spec in the form the time computations need.
type plan struct {
	hour, minute int
	days         [7]bool // indexed by time.Weekday
	utc          bool
	start, end   time.Time // civil dates as UTC midnights; zero when open
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
}

// kindsWanted lists the kinds, for error messages.
const kindsWanted = "once, daily, weekly, enrollment, login, network or event"

// compile validates s and converts it to a plan. A once or triggered
// schedule yields a nil plan and no error: it has no occurrence in time.
func (s Spec) compile() (*plan, error) {
	if s.Kind != Event && s.Event != "" {
		return nil, invalid("only an event trigger takes an event name")
	}
	switch s.Kind {
	case Once, Enrollment, Login, Network, Event:
		var extra []string
		for _, f := range []struct{ name, val string }{
			{"at", s.At}, {"tz", s.TZ}, {"start", s.Start}, {"end", s.End},
		} {
			if f.val != "" {
				extra = append(extra, f.name)
			}
		}
		if len(s.Days) > 0 {
			extra = append(extra, "days")
		}
		switch {
		case len(extra) > 0 && s.Kind == Once:
			return nil, invalid("a once schedule runs at deployment and takes no %s", strings.Join(extra, ", "))
		case len(extra) > 0:
			return nil, invalid("a trigger runs when the device observes it and takes no %s", strings.Join(extra, ", "))
		case s.Kind == Event:
			if err := ValidEventName(s.Event); err != nil {
				return nil, invalid("%v", err)
			}
		}
		return nil, nil
	case Daily, Weekly:
	case "":
		return nil, invalid("missing kind (want %s)", kindsWanted)
	default:
		return nil, invalid("unknown kind %q (want %s)", s.Kind, kindsWanted)
	}

	p := &plan{}
	var err error
	if p.hour, p.minute, err = parseClock(s.At); err != nil {
		return nil, err
	}
	switch s.Kind {
	case Daily:
		if len(s.Days) > 0 {
			return nil, invalid("a daily schedule takes no days (use weekly)")
		}
		p.days = [7]bool{true, true, true, true, true, true, true}
	case Weekly:
		if len(s.Days) == 0 {
			return nil, invalid("a weekly schedule needs at least one day (mon..sun)")
		}
		for _, d := range s.Days {
			i := slices.Index(dayNames[:], d)
			if i < 0 {
				return nil, invalid("unknown day %q (want mon, tue, wed, thu, fri, sat or sun)", d)
			}
			p.days[(i+1)%7] = true // dayNames starts on Monday, time.Weekday on Sunday
		}
	}
	switch s.TZ {
	case "", Local:
	case UTC:
		p.utc = true
	default:
		return nil, invalid("unknown tz %q (want %s or %s)", s.TZ, Local, UTC)
	}
	if p.start, err = parseDate("start", s.Start); err != nil {
		return nil, err
	}
	if p.end, err = parseDate("end", s.End); err != nil {
		return nil, err
	}
	if !p.start.IsZero() && !p.end.IsZero() && p.end.Before(p.start) {
		return nil, invalid("end %s is before start %s", s.End, s.Start)
	}
	return p, nil
}

// parseClock accepts exactly HH:MM with two digits each, 00:00 to 23:59.
// "9:05" is refused: the console always sends two digits, and one accepted
// spelling keeps stored schedules comparable.
func parseClock(at string) (hour, minute int, err error) {
	bad := invalid("at %q: want HH:MM, 24 h, 00:00 to 23:59", at)
	if len(at) != 5 || at[2] != ':' {
		return 0, 0, bad
	}
	for _, i := range []int{0, 1, 3, 4} {
		if at[i] < '0' || at[i] > '9' {
			return 0, 0, bad
		}
	}
	hour = int(at[0]-'0')*10 + int(at[1]-'0')
	minute = int(at[3]-'0')*10 + int(at[4]-'0')
	if hour > 23 || minute > 59 {
		return 0, 0, bad
	}
	return hour, minute, nil
}

// parseDate parses an optional YYYY-MM-DD into a UTC midnight; time.Parse
// already refuses days that do not exist, such as 2027-02-30.
func parseDate(field, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	d, err := time.Parse(dateLayout, v)
	if err != nil || len(v) != len(dateLayout) {
		return time.Time{}, invalid("%s %q: want an existing date as YYYY-MM-DD", field, v)
	}
	return d, nil
}
