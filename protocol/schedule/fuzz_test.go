package schedule

import (
	"fmt"
	"testing"
	"time"
)

// fuzzZones mixes whole-hour, half-hour and midnight DST transitions in both
// hemispheres with a zone that has none.
var fuzzZones = []string{"Europe/Paris", "America/New_York", "Australia/Lord_Howe", "America/Santiago", "UTC"}

// FuzzSchedule checks the invariants the agent relies on, over arbitrary
// times, days, zones and date ranges:
//   - Next is strictly increasing and Preview agrees with it;
//   - every occurrence is on an allowed day within Start..End, at the scheduled
//     wall-clock time, or at the end of a DST gap that skipped it, and is the
//     first showing of that wall-clock time;
//   - Due returns an occurrence in (last, now] with no other occurrence
//     between it and now, and a next occurrence after now.
func FuzzSchedule(f *testing.F) {
	f.Add(uint8(2), uint8(30), uint8(0), uint8(0), int64(1806105600), int16(0), int16(0), int64(3600))    // Paris, spring 2027
	f.Add(uint8(2), uint8(30), uint8(0), uint8(0), int64(1824854400), int16(0), int16(0), int64(86400*3)) // Paris, fall 2027
	f.Add(uint8(1), uint8(30), uint8(0b0100001), uint8(1), int64(1825545600), int16(-3), int16(20), int64(7200))
	f.Add(uint8(0), uint8(0), uint8(0), uint8(3), int64(1788480000), int16(1), int16(1), int64(86400*30)) // Santiago midnight gap
	f.Add(uint8(23), uint8(59), uint8(0b1000000), uint8(4), int64(1861833600), int16(5), int16(400), int64(60))
	f.Add(uint8(2), uint8(15), uint8(0b1111111), uint8(2), int64(1822838400), int16(0), int16(-1), int64(1))

	zones := make([]*time.Location, len(fuzzZones))
	for i, name := range fuzzZones {
		zones[i] = mustZone(f, name)
	}

	f.Fuzz(func(t *testing.T, hour, minute, dayMask, zoneIdx uint8, afterUnix int64, startOff, span int16, sleep int64) {
		z := zones[int(zoneIdx)%len(zones)]
		// Keep times within 1970..2100, where zone rules are known.
		secs := afterUnix % (130 * 365 * 86400)
		if secs < 0 {
			secs = -secs
		}
		after := time.Unix(secs, 0)
		s := Spec{Kind: Daily, At: fmt.Sprintf("%02d:%02d", hour%24, minute%60), TZ: Local}
		if mask := dayMask & 0x7f; mask != 0 {
			s.Kind = Weekly
			for i, name := range dayNames {
				if mask&(1<<i) != 0 {
					s.Days = append(s.Days, name)
				}
			}
		}
		base := civil(after.In(z))
		if startOff != 0 {
			s.Start = base.AddDate(0, 0, int(startOff)%60).Format(dateLayout)
		}
		if span > 0 {
			from := base
			if s.Start != "" {
				from, _ = time.Parse(dateLayout, s.Start)
			}
			s.End = from.AddDate(0, 0, int(span)%400).Format(dateLayout)
		}
		p, err := s.compile()
		if err != nil {
			t.Fatalf("generated an invalid spec %v: %v", s, err)
		}

		const n = 12
		prev := after
		var nexts []time.Time
		for range n {
			o, ok := s.Next(prev, z)
			if !ok {
				break
			}
			if !o.After(prev) {
				t.Fatalf("%v: Next(%v) = %v, not after", s, prev, o)
			}
			checkOccurrence(t, s, p, o, z)
			nexts = append(nexts, o)
			prev = o
		}
		if len(nexts) < n && p.end.IsZero() {
			t.Fatalf("%v: only %d occurrences after %v with no end", s, len(nexts), after)
		}
		preview := s.Preview(after.Add(time.Nanosecond), n, z)
		if len(preview) != len(nexts) {
			t.Fatalf("%v: Preview gave %d occurrences, Next %d", s, len(preview), len(nexts))
		}
		for i := range preview {
			if !preview[i].Equal(nexts[i]) {
				t.Fatalf("%v: Preview[%d] = %v, Next gave %v", s, i, preview[i], nexts[i])
			}
		}

		// The device slept from after to now.
		if sleep < 0 {
			sleep = -sleep
		}
		now := after.Add(time.Duration(sleep%(90*86400)) * time.Second)
		due, ok, next, hasNext := s.Due(after, now, z)
		if ok {
			if !due.After(after) || due.After(now) {
				t.Fatalf("%v: Due(%v, %v) = %v, outside (last, now]", s, after, now, due)
			}
			checkOccurrence(t, s, p, due, z)
			if o, more := s.Next(due, z); more && !o.After(now) {
				t.Fatalf("%v: Due(%v, %v) = %v, but %v is more recent", s, after, now, due, o)
			}
		} else if len(nexts) > 0 && !nexts[0].After(now) && (p.end.IsZero() || !civil(now.In(z)).After(p.end)) {
			t.Fatalf("%v: Due(%v, %v) found nothing, but %v was missed", s, after, now, nexts[0])
		}
		if hasNext {
			if !next.After(now) {
				t.Fatalf("%v: Due next %v is not after now %v", s, next, now)
			}
			checkOccurrence(t, s, p, next, z)
		}
	})
}

// checkOccurrence fails unless o is a legitimate occurrence of s in zone z.
func checkOccurrence(t *testing.T, s Spec, p *plan, o time.Time, z *time.Location) {
	t.Helper()
	local := o.In(z)
	wall := naive(local)
	before := naive(o.Add(-time.Nanosecond).In(z))
	for _, d := range []time.Time{civil(local), civil(local).AddDate(0, 0, -1)} {
		if !p.days[d.Weekday()] || !p.inRange(d) {
			continue
		}
		want := time.Date(d.Year(), d.Month(), d.Day(), p.hour, p.minute, 0, 0, time.UTC)
		onTime := wall.Equal(want)
		afterGap := before.Before(want) && wall.After(want) // the clock jumped over want at o
		if !onTime && !afterGap {
			continue
		}
		// First showing: no earlier instant in the previous 3 h shows the
		// same wall clock (fall-back shifts are whole quarter hours).
		for k := 1; k <= 12; k++ {
			if e := o.Add(-time.Duration(k) * 15 * time.Minute); naive(e.In(z)).Equal(wall) {
				t.Fatalf("%v: occurrence %v is the second showing of %v, first at %v", s, local, wall, e.In(z))
			}
		}
		return
	}
	t.Fatalf("%v: %v (%v) is not at %s on an allowed day within the range", s, o, local, s.At)
}
