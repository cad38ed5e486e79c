package schedule

import (
	"errors"
	"fmt"
	"strings"
)

// Words is a schedule as administrators type it: the flags of `assign`,
// `config add script` and `schedule preview`, and the same words in the
// admin API's requests, so both read a schedule by one rule.
type Words struct {
	Once   bool   `json:"once,omitempty"`
	Daily  string `json:"daily,omitempty"`  // HH:MM
	Weekly string `json:"weekly,omitempty"` // HH:MM, with Days
	Days   string `json:"days,omitempty"`   // mon,wed,fri
	TZ     string `json:"tz,omitempty"`     // local or utc
	Start  string `json:"start,omitempty"`  // YYYY-MM-DD
	End    string `json:"end,omitempty"`    // YYYY-MM-DD
	On     string `json:"on,omitempty"`     // a trigger instead: enrollment, login, network, event:NAME
}

var errConflict = errors.New("choose one of --once, --daily HH:MM and --weekly HH:MM")

// timeWords names the words of a timed schedule, in the order errors
// name them.
func (w Words) timeWords() []string {
	var out []string
	for _, f := range []struct {
		name string
		set  bool
	}{{"once", w.Once}, {"daily", w.Daily != ""}, {"weekly", w.Weekly != ""}, {"days", w.Days != ""},
		{"tz", w.TZ != ""}, {"start", w.Start != ""}, {"end", w.End != ""}} {
		if f.set {
			out = append(out, f.name)
		}
	}
	return out
}

// First names the first word of a timed schedule given, or "".
func (w Words) First() string {
	if given := w.timeWords(); len(given) > 0 {
		return given[0]
	}
	return ""
}

// Given tells whether any word was given: an edit without one keeps the
// schedule there is.
func (w Words) Given() bool { return w.On != "" || len(w.timeWords()) > 0 }

// Spec builds and validates the schedule the words describe: once when
// none is given. A trigger (On) takes no time, days, zone or dates. Every
// error refuses the words.
func (w Words) Spec() (Spec, error) {
	if w.On != "" {
		if first := w.First(); first != "" {
			return Spec{}, fmt.Errorf("--on runs on a trigger and takes no --%s: give either --on or schedule flags", first)
		}
		return ParseTrigger(w.On)
	}
	kind, at := Once, ""
	switch {
	case w.Daily != "" && w.Weekly != "":
		return Spec{}, errConflict
	case w.Daily != "":
		kind, at = Daily, w.Daily
	case w.Weekly != "":
		kind, at = Weekly, w.Weekly
	}
	if kind != Once && w.Once {
		return Spec{}, errConflict
	}
	var days []string
	if w.Days != "" {
		days = strings.Split(w.Days, ",")
	}
	return Parse(kind, at, days, w.TZ, w.Start, w.End)
}
