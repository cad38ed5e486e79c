package schedule

import (
	"testing"
	"time"
	_ "time/tzdata" // the same zone rules on every test machine
)

func mustZone(t testing.TB, name string) *time.Location {
	t.Helper()
	z, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("load zone: %v", err)
	}
	return z
}

// ts parses an instant written with its offset, so expected values never
// depend on how a zone resolves an ambiguous wall clock.
func ts(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse("2006-01-02 15:04 -0700", s)
	if err != nil {
		t.Fatalf("bad test time %q: %v", s, err)
	}
	return v
}

func mustParse(t testing.TB, kind, at string, days []string, tz, start, end string) Spec {
	t.Helper()
	s, err := Parse(kind, at, days, tz, start, end)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return s
}

func TestWallClockDST(t *testing.T) {
	tests := []struct {
		name string
		zone string
		date string // YYYY-MM-DD
		at   string
		want string
	}{
		{"paris gap runs when the gap ends", "Europe/Paris", "2027-03-28", "02:30", "2027-03-28 03:00 +0200"},
		{"paris gap start", "Europe/Paris", "2027-03-28", "02:00", "2027-03-28 03:00 +0200"},
		{"paris gap last minute", "Europe/Paris", "2027-03-28", "02:59", "2027-03-28 03:00 +0200"},
		{"paris just before gap", "Europe/Paris", "2027-03-28", "01:59", "2027-03-28 01:59 +0100"},
		{"paris just after gap", "Europe/Paris", "2027-03-28", "03:00", "2027-03-28 03:00 +0200"},
		{"paris repeated hour first showing", "Europe/Paris", "2027-10-31", "02:30", "2027-10-31 02:30 +0200"},
		{"paris repeated hour start", "Europe/Paris", "2027-10-31", "02:00", "2027-10-31 02:00 +0200"},
		{"paris after repeated hour", "Europe/Paris", "2027-10-31", "03:00", "2027-10-31 03:00 +0100"},
		{"new york gap", "America/New_York", "2027-03-14", "02:30", "2027-03-14 03:00 -0400"},
		{"new york repeated hour", "America/New_York", "2027-11-07", "01:30", "2027-11-07 01:30 -0400"},
		{"lord howe half-hour gap", "Australia/Lord_Howe", "2027-10-03", "02:15", "2027-10-03 02:30 +1100"},
		{"lord howe half-hour repeat", "Australia/Lord_Howe", "2027-04-04", "01:45", "2027-04-04 01:45 +1100"},
		{"santiago gap at midnight", "America/Santiago", "2026-09-06", "00:00", "2026-09-06 01:00 -0300"},
		{"samoa skipped day", "Pacific/Apia", "2011-12-30", "09:00", "2011-12-31 00:00 +1400"},
		{"utc", "UTC", "2028-02-29", "23:59", "2028-02-29 23:59 +0000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := time.Parse(dateLayout, tt.date)
			if err != nil {
				t.Fatal(err)
			}
			h, m, err := parseClock(tt.at)
			if err != nil {
				t.Fatal(err)
			}
			got := wallClock(d.Year(), d.Month(), d.Day(), h, m, mustZone(t, tt.zone))
			if want := ts(t, tt.want); !got.Equal(want) {
				t.Errorf("wallClock = %v, want %v", got, want)
			}
		})
	}
}

func TestNext(t *testing.T) {
	paris := mustZone(t, "Europe/Paris")
	newYork := mustZone(t, "America/New_York")
	tokyo := mustZone(t, "Asia/Tokyo")
	apia := mustZone(t, "Pacific/Apia")
	tests := []struct {
		name  string
		spec  Spec
		loc   *time.Location
		after string
		want  []string // successive results of Next; fewer than asked means none remains
		asked int
	}{
		{
			name: "paris spring forward runs at 03:00 then back to 02:30",
			spec: mustParse(t, "daily", "02:30", nil, "local", "", ""), loc: paris,
			after: "2027-03-27 12:00 +0100",
			want:  []string{"2027-03-28 03:00 +0200", "2027-03-29 02:30 +0200"}, asked: 2,
		},
		{
			name: "paris fall back runs once",
			spec: mustParse(t, "daily", "02:30", nil, "local", "", ""), loc: paris,
			after: "2027-10-30 12:00 +0200",
			want:  []string{"2027-10-31 02:30 +0200", "2027-11-01 02:30 +0100"}, asked: 2,
		},
		{
			name: "paris after the first showing of a repeated time",
			spec: mustParse(t, "daily", "02:30", nil, "local", "", ""), loc: paris,
			after: "2027-10-31 02:15 +0100",
			want:  []string{"2027-11-01 02:30 +0100"}, asked: 1,
		},
		{
			name: "new york spring forward",
			spec: mustParse(t, "daily", "02:30", nil, "local", "", ""), loc: newYork,
			after: "2027-03-13 12:00 -0500",
			want:  []string{"2027-03-14 03:00 -0400", "2027-03-15 02:30 -0400"}, asked: 2,
		},
		{
			name: "new york fall back runs once",
			spec: mustParse(t, "daily", "01:30", nil, "local", "", ""), loc: newYork,
			after: "2027-11-06 12:00 -0400",
			want:  []string{"2027-11-07 01:30 -0400", "2027-11-08 01:30 -0500"}, asked: 2,
		},
		{
			name: "samoa skipped day runs once",
			spec: mustParse(t, "daily", "00:00", nil, "local", "", ""), loc: apia,
			after: "2011-12-29 00:00 -1000",
			want:  []string{"2011-12-31 00:00 +1400", "2012-01-01 00:00 +1400"}, asked: 2,
		},
		{
			name: "leap day",
			spec: mustParse(t, "daily", "09:00", nil, "utc", "", ""), loc: paris,
			after: "2028-02-28 10:00 +0000",
			want:  []string{"2028-02-29 09:00 +0000", "2028-03-01 09:00 +0000"}, asked: 2,
		},
		{
			name: "weekly on leap day, end inclusive",
			spec: mustParse(t, "weekly", "09:00", []string{"tue"}, "utc", "2028-02-01", "2028-02-29"), loc: paris,
			after: "2028-02-22 09:00 +0000",
			want:  []string{"2028-02-29 09:00 +0000"}, asked: 2,
		},
		{
			name: "year end",
			spec: mustParse(t, "daily", "23:30", nil, "local", "", ""), loc: paris,
			after: "2027-12-31 23:30 +0100",
			want:  []string{"2028-01-01 23:30 +0100"}, asked: 1,
		},
		{
			name: "weekly across the year end",
			spec: mustParse(t, "weekly", "08:00", []string{"mon", "fri"}, "utc", "", ""), loc: paris,
			after: "2027-12-30 08:00 +0000",
			want:  []string{"2027-12-31 08:00 +0000", "2028-01-03 08:00 +0000", "2028-01-07 08:00 +0000"}, asked: 3,
		},
		{
			name: "weekly across days and the week boundary",
			spec: mustParse(t, "weekly", "10:00", []string{"wed", "mon", "fri"}, "utc", "", ""), loc: paris,
			after: "2027-01-04 10:00 +0000", // a Monday, at the occurrence
			want:  []string{"2027-01-06 10:00 +0000", "2027-01-08 10:00 +0000", "2027-01-11 10:00 +0000"}, asked: 3,
		},
		{
			name: "weekly days are read in the device zone",
			spec: mustParse(t, "weekly", "08:00", []string{"mon"}, "local", "", ""), loc: tokyo,
			after: "2027-01-01 00:00 +0000",
			want:  []string{"2027-01-04 08:00 +0900"}, asked: 1, // Sunday 23:00 UTC
		},
		{
			name: "end date inclusive then nothing",
			spec: mustParse(t, "daily", "09:00", nil, "utc", "", "2027-01-31"), loc: paris,
			after: "2027-01-31 08:59 +0000",
			want:  []string{"2027-01-31 09:00 +0000"}, asked: 2,
		},
		{
			name: "after end",
			spec: mustParse(t, "daily", "09:00", nil, "utc", "2027-01-01", "2027-01-31"), loc: paris,
			after: "2027-03-01 00:00 +0000",
			want:  nil, asked: 1,
		},
		{
			name: "end date read in the device zone",
			spec: mustParse(t, "daily", "00:30", nil, "local", "", "2027-01-31"), loc: tokyo,
			after: "2027-01-30 00:00 +0000",
			want:  []string{"2027-01-31 00:30 +0900"}, asked: 2,
		},
		{
			name: "start in the future",
			spec: mustParse(t, "weekly", "09:00", []string{"wed"}, "utc", "2030-06-01", ""), loc: paris,
			after: "2027-01-01 00:00 +0000",
			want:  []string{"2030-06-05 09:00 +0000"}, asked: 1,
		},
		{
			name: "start day itself",
			spec: mustParse(t, "daily", "09:00", nil, "local", "2027-07-01", ""), loc: paris,
			after: "2027-06-15 12:00 +0200",
			want:  []string{"2027-07-01 09:00 +0200", "2027-07-02 09:00 +0200"}, asked: 2,
		},
		{
			name: "utc ignores the device zone",
			spec: mustParse(t, "daily", "09:00", nil, "utc", "", ""), loc: newYork,
			after: "2027-01-10 09:00 +0000",
			want:  []string{"2027-01-11 09:00 +0000"}, asked: 1,
		},
		{
			name: "local follows the device zone",
			spec: mustParse(t, "daily", "09:00", nil, "local", "", ""), loc: newYork,
			after: "2027-01-10 09:00 +0000",
			want:  []string{"2027-01-10 09:00 -0500"}, asked: 1,
		},
		{
			name: "once has no occurrence",
			spec: Spec{Kind: Once}, loc: paris,
			after: "2027-01-10 09:00 +0000", asked: 1,
		},
		{
			name: "invalid spec has no occurrence",
			spec: Spec{Kind: Daily, At: "24:00"}, loc: paris,
			after: "2027-01-10 09:00 +0000", asked: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cur := ts(t, tt.after)
			var got []time.Time
			for range tt.asked {
				n, ok := tt.spec.Next(cur, tt.loc)
				if !ok {
					break
				}
				got = append(got, n)
				cur = n
			}
			if len(got) != len(tt.want) {
				t.Fatalf("Next gave %v, want %v", got, tt.want)
			}
			for i, w := range tt.want {
				if want := ts(t, w); !got[i].Equal(want) {
					t.Errorf("Next #%d = %v, want %v", i+1, got[i], want)
				}
			}
		})
	}
}

func TestNextUsesScheduleZoneForResult(t *testing.T) {
	paris := mustZone(t, "Europe/Paris")
	local, _ := mustParse(t, "daily", "09:00", nil, "local", "", "").Next(ts(t, "2027-01-01 00:00 +0000"), paris)
	if local.Location() != paris {
		t.Errorf("tz=local result in %v, want %v", local.Location(), paris)
	}
	utc, _ := mustParse(t, "daily", "09:00", nil, "utc", "", "").Next(ts(t, "2027-01-01 00:00 +0000"), paris)
	if utc.Location() != time.UTC {
		t.Errorf("tz=utc result in %v, want UTC", utc.Location())
	}
}

func TestPreview(t *testing.T) {
	paris := mustZone(t, "Europe/Paris")
	tests := []struct {
		name string
		spec Spec
		from string
		n    int
		want []string
	}{
		{
			name: "from is inclusive and crosses the spring gap",
			spec: mustParse(t, "daily", "02:30", nil, "local", "", ""),
			from: "2027-03-27 02:30 +0100", n: 3,
			want: []string{"2027-03-27 02:30 +0100", "2027-03-28 03:00 +0200", "2027-03-29 02:30 +0200"},
		},
		{
			name: "stops at end",
			spec: mustParse(t, "weekly", "12:00", []string{"sat", "sun"}, "utc", "2027-01-01", "2027-01-10"),
			from: "2026-12-01 00:00 +0000", n: 10,
			want: []string{"2027-01-02 12:00 +0000", "2027-01-03 12:00 +0000", "2027-01-09 12:00 +0000", "2027-01-10 12:00 +0000"},
		},
		{
			name: "zero asked",
			spec: mustParse(t, "daily", "12:00", nil, "utc", "", ""),
			from: "2027-01-01 00:00 +0000", n: 0,
		},
		{
			name: "once",
			spec: Spec{Kind: Once},
			from: "2027-01-01 00:00 +0000", n: 3,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.spec.Preview(ts(t, tt.from), tt.n, paris)
			if len(got) != len(tt.want) {
				t.Fatalf("Preview = %v, want %v", got, tt.want)
			}
			for i, w := range tt.want {
				if want := ts(t, w); !got[i].Equal(want) {
					t.Errorf("Preview[%d] = %v, want %v", i, got[i], want)
				}
			}
		})
	}
}

func TestDue(t *testing.T) {
	paris := mustZone(t, "Europe/Paris")
	daily := mustParse(t, "daily", "09:00", nil, "utc", "", "")
	tests := []struct {
		name      string
		spec      Spec
		last, now string // last "" is the zero time
		due       string // "" when nothing is due
		next      string // "" when no occurrence remains
	}{
		{
			name: "several missed run only the latest",
			spec: daily, last: "2027-01-01 09:00 +0000", now: "2027-01-05 12:00 +0000",
			due: "2027-01-05 09:00 +0000", next: "2027-01-06 09:00 +0000",
		},
		{
			name: "due at the exact instant",
			spec: daily, last: "2027-01-04 09:00 +0000", now: "2027-01-05 09:00 +0000",
			due: "2027-01-05 09:00 +0000", next: "2027-01-06 09:00 +0000",
		},
		{
			name: "already run",
			spec: daily, last: "2027-01-05 09:00 +0000", now: "2027-01-05 12:00 +0000",
			next: "2027-01-06 09:00 +0000",
		},
		{
			name: "occurrence before the assignment was received",
			spec: daily, last: "2027-01-05 10:00 +0000", now: "2027-01-05 12:00 +0000",
			next: "2027-01-06 09:00 +0000",
		},
		{
			name: "clock set back before last",
			spec: daily, last: "2027-01-05 09:00 +0000", now: "2027-01-03 12:00 +0000",
			next: "2027-01-04 09:00 +0000",
		},
		{
			name: "never before start",
			spec: mustParse(t, "daily", "09:00", nil, "utc", "2027-02-01", ""),
			now:  "2027-01-20 12:00 +0000",
			next: "2027-02-01 09:00 +0000",
		},
		{
			name: "missed since start, zero last",
			spec: mustParse(t, "daily", "09:00", nil, "utc", "2027-02-01", ""),
			now:  "2027-02-03 12:00 +0000",
			due:  "2027-02-03 09:00 +0000", next: "2027-02-04 09:00 +0000",
		},
		{
			name: "start day before its time",
			spec: mustParse(t, "daily", "09:00", nil, "utc", "2027-02-01", ""),
			now:  "2027-02-01 08:00 +0000",
			next: "2027-02-01 09:00 +0000",
		},
		{
			name: "end day after its time is the last run",
			spec: mustParse(t, "daily", "09:00", nil, "utc", "", "2027-01-31"),
			last: "2027-01-29 09:00 +0000", now: "2027-01-31 23:59 +0000",
			due: "2027-01-31 09:00 +0000",
		},
		{
			name: "never after end, not even a missed one",
			spec: mustParse(t, "daily", "09:00", nil, "utc", "", "2027-01-31"),
			last: "2027-01-20 09:00 +0000", now: "2027-02-01 00:00 +0000",
		},
		{
			name: "weekly missed for weeks in the device zone",
			spec: mustParse(t, "weekly", "10:00", []string{"mon", "thu"}, "local", "", ""),
			last: "2027-01-04 10:00 +0100", now: "2027-01-20 18:00 +0100",
			due: "2027-01-18 10:00 +0100", next: "2027-01-21 10:00 +0100",
		},
		{
			name: "repeated hour runs once",
			spec: mustParse(t, "daily", "02:30", nil, "local", "", ""),
			last: "2027-10-31 02:30 +0200", now: "2027-10-31 02:45 +0100",
			next: "2027-11-01 02:30 +0100",
		},
		{
			name: "nonexistent time is due when the gap ends",
			spec: mustParse(t, "daily", "02:30", nil, "local", "", ""),
			last: "2027-03-27 02:30 +0100", now: "2027-03-28 03:00 +0200",
			due: "2027-03-28 03:00 +0200", next: "2027-03-29 02:30 +0200",
		},
		{
			name: "nonexistent time not due just before the gap",
			spec: mustParse(t, "daily", "02:30", nil, "local", "", ""),
			last: "2027-03-27 02:30 +0100", now: "2027-03-28 01:59 +0100",
			next: "2027-03-28 03:00 +0200",
		},
		{
			name: "once is not driven by time",
			spec: Spec{Kind: Once}, now: "2027-01-05 12:00 +0000",
		},
	}
	opt := func(s string) time.Time {
		if s == "" {
			return time.Time{}
		}
		return ts(t, s)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			due, ok, next, hasNext := tt.spec.Due(opt(tt.last), opt(tt.now), paris)
			if ok != (tt.due != "") || ok && !due.Equal(opt(tt.due)) {
				t.Errorf("due = %v, %v; want %q", due, ok, tt.due)
			}
			if hasNext != (tt.next != "") || hasNext && !next.Equal(opt(tt.next)) {
				t.Errorf("next = %v, %v; want %q", next, hasNext, tt.next)
			}
		})
	}
}

func BenchmarkDue(b *testing.B) {
	s := mustParse(b, "weekly", "02:30", []string{"sun"}, "local", "2027-01-01", "2028-12-31")
	paris := mustZone(b, "Europe/Paris")
	last, now := ts(b, "2027-03-21 02:30 +0100"), ts(b, "2027-10-31 12:00 +0100")
	for b.Loop() {
		if _, ok, _, _ := s.Due(last, now, paris); !ok {
			b.Fatal("nothing due")
		}
	}
}
