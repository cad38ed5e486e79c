package schedule

import "time"

// scanDays bounds the calendar days examined to find one occurrence: any 7
// consecutive days hold every weekday, plus one day on each side for an
// occurrence pushed across midnight by a DST gap.
const scanDays = 10

// zone returns where the schedule's wall clock and dates are read: UTC for
// tz=utc, otherwise loc (the device's zone), time.Local when loc is nil.
func (p *plan) zone(loc *time.Location) *time.Location {
	switch {
	case p.utc:
		return time.UTC
	case loc == nil:
		return time.Local
	default:
		return loc
	}
}

// civil returns the calendar date of t in its own location, as a UTC midnight,
// so that date arithmetic never meets a DST transition.
func civil(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// inRange reports whether the civil date d lies between Start and End.
func (p *plan) inRange(d time.Time) bool {
	return (p.start.IsZero() || !d.Before(p.start)) && (p.end.IsZero() || !d.After(p.end))
}

// on returns the occurrence on civil date d, or false when the schedule does
// not run that day.
func (p *plan) on(d time.Time, z *time.Location) (time.Time, bool) {
	if !p.days[d.Weekday()] || !p.inRange(d) {
		return time.Time{}, false
	}
	return wallClock(d.Year(), d.Month(), d.Day(), p.hour, p.minute, z), true
}

// wallClock returns the instant the wall clock in z first shows the given
// date and time. time.Date leaves both DST edge cases unspecified (and, in
// practice, resolves them differently from zone to zone), so they are settled
// here:
//   - a time skipped by a gap (spring forward) maps to the first instant after
//     the gap: 02:30 on a Paris spring-forward day runs at 03:00 CEST;
//   - a time shown twice (fall back) maps to its first showing, so it runs once.
func wallClock(year int, month time.Month, day, hour, minute int, z *time.Location) time.Time {
	want := time.Date(year, month, day, hour, minute, 0, 0, time.UTC)
	t := time.Date(year, month, day, hour, minute, 0, 0, z)
	got := naive(t)
	start, end := t.ZoneBounds()
	switch {
	case got.After(want):
		// Resolved past the gap with the earlier offset: the gap ends where
		// the zone of t begins.
		return start
	case got.Before(want):
		// Resolved before the gap with the later offset: the gap starts where
		// the zone of t ends, and the clock resumes past want there.
		return end
	}
	// The wall clock exists; if the zone just before t's has a larger
	// offset, the same wall clock was shown earlier in that zone too.
	if start.IsZero() {
		return t
	}
	_, cur := t.Zone()
	_, prev := start.Add(-time.Second).Zone()
	if prev > cur {
		earlier := t.Add(time.Duration(cur-prev) * time.Second)
		if earlier.Before(start) && naive(earlier).Equal(want) {
			return earlier
		}
	}
	return t
}

// naive reads t's wall clock, in t's location, as if it were UTC, so two wall
// clocks compare without any zone getting in the way.
func naive(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
}

// next returns the first occurrence strictly after t.
func (p *plan) next(t time.Time, z *time.Location) (time.Time, bool) {
	d := civil(t.In(z)).AddDate(0, 0, -1)
	if !p.start.IsZero() && d.Before(p.start) {
		d = p.start // a start far in the future costs nothing to reach
	}
	for range scanDays {
		if !p.end.IsZero() && d.After(p.end) {
			return time.Time{}, false
		}
		if o, ok := p.on(d, z); ok && o.After(t) {
			return o, true
		}
		d = d.AddDate(0, 0, 1)
	}
	return time.Time{}, false
}

// latest returns the last occurrence at or before t.
func (p *plan) latest(t time.Time, z *time.Location) (time.Time, bool) {
	d := civil(t.In(z)).AddDate(0, 0, 1)
	if !p.end.IsZero() && d.After(p.end) {
		d = p.end
	}
	for range scanDays {
		if !p.start.IsZero() && d.Before(p.start) {
			return time.Time{}, false
		}
		if o, ok := p.on(d, z); ok && !o.After(t) {
			return o, true
		}
		d = d.AddDate(0, 0, -1)
	}
	return time.Time{}, false
}

// Next returns the first occurrence strictly after `after`, and false when none
// remains: past End, for a once schedule (which has no occurrence in time: the
// agent runs it when it receives it), or for an invalid Spec. The time and the
// Start/End dates are read in loc for tz=local (time.Local when loc is nil)
// and in UTC for tz=utc; the result is in that zone.
func (s Spec) Next(after time.Time, loc *time.Location) (time.Time, bool) {
	p, err := s.compile()
	if err != nil || p == nil {
		return time.Time{}, false
	}
	return p.next(after, p.zone(loc))
}

// Preview returns up to n occurrences at or after from, earliest first, for a
// console or `status` to show what will run.
func (s Spec) Preview(from time.Time, n int, loc *time.Location) []time.Time {
	p, err := s.compile()
	if err != nil || p == nil || n <= 0 {
		return nil
	}
	z := p.zone(loc)
	var out []time.Time
	for t, ok := p.next(from.Add(-1), z); ok && len(out) < n; t, ok = p.next(t, z) {
		out = append(out, t)
	}
	return out
}

// Due decides what the agent runs now, and when to wake up next.
//
// last is the occurrence the agent last ran for this assignment version; when
// it has never run one, the agent passes the time it received that version,
// so an assignment never runs for occurrences from before it reached the
// device. due is the most recent occurrence in (last, now]: if the device
// slept through several, only the latest runs, once, never a burst. How long
// ago it was does not matter, but nothing runs once End has passed in the
// schedule's zone, not even a missed occurrence, and nothing runs before
// Start. The agent records due (not the time it actually ran) as its next
// last, so a run that takes long or a clock read twice cannot run the same
// occurrence again.
//
// next is the first occurrence after now, for the agent's timer; hasNext is
// false once the schedule is over. A once schedule or an invalid Spec returns
// nothing: the agent runs a once assignment when it receives it.
func (s Spec) Due(last, now time.Time, loc *time.Location) (due time.Time, ok bool, next time.Time, hasNext bool) {
	p, err := s.compile()
	if err != nil || p == nil {
		return time.Time{}, false, time.Time{}, false
	}
	z := p.zone(loc)
	next, hasNext = p.next(now, z)
	if !p.end.IsZero() && civil(now.In(z)).After(p.end) {
		return time.Time{}, false, next, hasNext
	}
	if l, found := p.latest(now, z); found && l.After(last) {
		return l, true, next, hasNext
	}
	return time.Time{}, false, next, hasNext
}
