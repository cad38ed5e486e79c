package storetest

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/store"
)

func sampleDevice(id string, enrolled time.Time) store.Device {
	return store.Device{
		ID: id,
		Facts: protocol.Facts{
			SerialNumber: "C02" + id,
			Model:        "Mac14,2",
			OSVersion:    "15.3.1",
			OSBuild:      "24D70",
			Hostname:     "mac-" + id,
			AgentVersion: "1.70.0",
			ConsoleUser:  "ada",
		},
		User:         "ada@example.com",
		Groups:       []string{"engineering", "paris"},
		Capabilities: []string{protocol.CapSchedule, protocol.CapInventory},
		AgentVersion: "1.70.0",
		CertSerial:   "5f3a9c",
		CertNotAfter: enrolled.Add(2 * 365 * 24 * time.Hour),
		EnrolledAt:   enrolled,
	}
}

// normDevice makes two devices comparable: times as UTC instants and empty
// lists as nil, since backends may return either for "none".
func normDevice(d store.Device) store.Device {
	d.EnrolledAt, d.LastCheckin = utc(d.EnrolledAt), utc(d.LastCheckin)
	d.CertNotAfter, d.PendingNotAfter = utc(d.CertNotAfter), utc(d.PendingNotAfter)
	if d.Retired != nil {
		r := *d.Retired
		r.At = utc(r.At)
		d.Retired = &r
	}
	if len(d.Groups) == 0 {
		d.Groups = nil
	}
	if len(d.Capabilities) == 0 {
		d.Capabilities = nil
	}
	return d
}

func checkDevice(t *testing.T, got, want store.Device) {
	t.Helper()
	if g, w := normDevice(got), normDevice(want); !reflect.DeepEqual(g, w) {
		t.Errorf("device =\n %+v\nwant\n %+v", g, w)
	}
}

func mustCreateDevice(t *testing.T, s store.AllStorage, d store.Device) {
	t.Helper()
	if err := s.CreateDevice(ctx(t), d); err != nil {
		t.Fatalf("CreateDevice %s: %v", d.ID, err)
	}
}

func mustDevice(t *testing.T, s store.AllStorage, id string) store.Device {
	t.Helper()
	d, err := s.Device(ctx(t), id)
	if err != nil {
		t.Fatalf("Device %s: %v", id, err)
	}
	return d
}

func testDevices(t *testing.T, newStore NewStore) {
	t.Run("round trip", func(t *testing.T) {
		tests := []struct {
			name string
			dev  store.Device
		}{
			{name: "full", dev: sampleDevice("d1", at(0))},
			{name: "no groups or capabilities", dev: store.Device{ID: "d2", Facts: protocol.Facts{SerialNumber: "X"}, EnrolledAt: at(0)}},
			{name: "empty lists", dev: store.Device{ID: "d3", Groups: []string{}, Capabilities: []string{}, EnrolledAt: at(0)}},
			{name: "already checked in", dev: func() store.Device {
				d := sampleDevice("d4", at(0))
				d.LastCheckin = at(time.Minute)
				return d
			}()},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := newStore(t)
				mustCreateDevice(t, s, tt.dev)
				checkDevice(t, mustDevice(t, s, tt.dev.ID), tt.dev)
			})
		}
	})

	t.Run("duplicate", func(t *testing.T) {
		s := newStore(t)
		d := sampleDevice("d1", at(0))
		mustCreateDevice(t, s, d)
		other := sampleDevice("d1", at(time.Hour))
		other.User = "mallory@example.com"
		if err := s.CreateDevice(ctx(t), other); !errors.Is(err, store.ErrExists) {
			t.Fatalf("second CreateDevice error = %v, want ErrExists", err)
		}
		checkDevice(t, mustDevice(t, s, "d1"), d)
	})

	t.Run("not found", func(t *testing.T) {
		s := newStore(t)
		mustCreateDevice(t, s, sampleDevice("d1", at(0)))
		calls := []struct {
			name string
			call func() error
		}{
			{"Device", func() error { _, err := s.Device(ctx(t), "nope"); return err }},
			{"RecordCheckin", func() error {
				_, err := s.RecordCheckin(ctx(t), "nope", store.Checkin{At: at(0)})
				return err
			}},
			{"SetDeviceGroups", func() error { return s.SetDeviceGroups(ctx(t), "nope", []string{"g"}) }},
			{"MarkDeviceLeft", func() error { return s.MarkDeviceLeft(ctx(t), "nope", at(0)) }},
			{"SetPendingCert", func() error { return s.SetPendingCert(ctx(t), "nope", "aa", at(0)) }},
			{"ConfirmCert", func() error { return s.ConfirmCert(ctx(t), "nope", "aa") }},
		}
		for _, c := range calls {
			t.Run(c.name, func(t *testing.T) {
				if err := c.call(); !errors.Is(err, store.ErrNotFound) {
					t.Fatalf("error = %v, want ErrNotFound", err)
				}
			})
		}
	})

	t.Run("certificate renewal", func(t *testing.T) {
		s := newStore(t)
		d := sampleDevice("d1", at(0))
		mustCreateDevice(t, s, d)
		// Nothing pending: no serial confirms, not even the current one.
		for _, serial := range []string{"", d.CertSerial, "77"} {
			if err := s.ConfirmCert(ctx(t), "d1", serial); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("ConfirmCert(%q) with nothing pending = %v, want ErrNotFound", serial, err)
			}
		}
		// A second renewal replaces the first pending certificate.
		if err := s.SetPendingCert(ctx(t), "d1", "77", at(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := s.SetPendingCert(ctx(t), "d1", "88", at(2*time.Hour)); err != nil {
			t.Fatal(err)
		}
		want := d
		want.PendingSerial, want.PendingNotAfter = "88", at(2*time.Hour)
		checkDevice(t, mustDevice(t, s, "d1"), want)
		if err := s.ConfirmCert(ctx(t), "d1", "77"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("ConfirmCert of a replaced pending serial = %v, want ErrNotFound", err)
		}
		if err := s.ConfirmCert(ctx(t), "d1", "88"); err != nil {
			t.Fatal(err)
		}
		want.CertSerial, want.CertNotAfter, want.PendingSerial, want.PendingNotAfter = "88", at(2*time.Hour), "", time.Time{}
		checkDevice(t, mustDevice(t, s, "d1"), want)
		// Confirmed once: a second confirmation finds nothing pending.
		if err := s.ConfirmCert(ctx(t), "d1", "88"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("second ConfirmCert = %v, want ErrNotFound", err)
		}
	})

	t.Run("list ordered by enrollment", func(t *testing.T) {
		s := newStore(t)
		if got, err := s.Devices(ctx(t)); err != nil || len(got) != 0 {
			t.Fatalf("Devices of an empty store = %v, %v; want none", got, err)
		}
		// Created out of order; the tick apart pair checks precision.
		for _, d := range []store.Device{
			sampleDevice("c", at(2*time.Hour)),
			sampleDevice("a", at(time.Hour+tick)),
			sampleDevice("b", at(time.Hour)),
			sampleDevice("d", at(-48*time.Hour)),
		} {
			mustCreateDevice(t, s, d)
		}
		got, err := s.Devices(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, d := range got {
			ids = append(ids, d.ID)
		}
		if want := []string{"d", "b", "a", "c"}; !slices.Equal(ids, want) {
			t.Fatalf("Devices order = %v, want %v", ids, want)
		}
		checkDevice(t, got[1], sampleDevice("b", at(time.Hour)))
	})

	t.Run("record check-in", func(t *testing.T) {
		s := newStore(t)
		d := sampleDevice("d1", at(0))
		mustCreateDevice(t, s, d)

		steps := []struct {
			version  string
			caps     []string
			wantPrev string
		}{
			{version: "1.70.0", caps: []string{protocol.CapSchedule}, wantPrev: "1.70.0"},
			{version: "1.73.0", caps: []string{protocol.CapSchedule, protocol.CapOnboarding}, wantPrev: "1.70.0"},
			{version: "1.73.0", caps: nil, wantPrev: "1.73.0"},
		}
		for i, st := range steps {
			facts := d.Facts
			facts.AgentVersion = st.version
			facts.OSVersion = "15.4"
			facts.ConsoleUser = ""
			when := at(time.Duration(i+1) * time.Hour)
			logLines := []protocol.LogLine{{Time: utc(when), Level: "warn", Message: "check-in " + st.version}}
			prev, err := s.RecordCheckin(ctx(t), d.ID, store.Checkin{Facts: facts, Capabilities: st.caps, RecentLog: logLines, At: when})
			if err != nil {
				t.Fatalf("check-in %d: %v", i, err)
			}
			if prev != st.wantPrev {
				t.Errorf("check-in %d: previous version = %q, want %q", i, prev, st.wantPrev)
			}
			want := d
			want.Facts, want.AgentVersion, want.Capabilities, want.LastCheckin = facts, st.version, st.caps, when
			want.RecentLog = logLines
			checkDevice(t, mustDevice(t, s, d.ID), want)
		}
	})

	t.Run("touch check-ins", func(t *testing.T) {
		s := newStore(t)
		d1, d2, d3 := sampleDevice("d1", at(0)), sampleDevice("d2", at(time.Second)), sampleDevice("d3", at(2*time.Second))
		for _, d := range []store.Device{d1, d2, d3} {
			mustCreateDevice(t, s, d)
		}
		if _, err := s.RecordCheckin(ctx(t), "d2", store.Checkin{Facts: d2.Facts, Capabilities: d2.Capabilities, At: at(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		gen := mustGeneration(t, s)
		steps := []struct {
			seen map[string]time.Time
			want map[string]time.Time // last check-in of d1, d2, d3 after the step
		}{
			{nil, map[string]time.Time{"d2": at(time.Hour)}},
			// d2's recorded check-in is later than the one touched: kept.
			{map[string]time.Time{"d1": at(time.Minute), "d2": at(time.Minute), "gone": at(time.Minute)},
				map[string]time.Time{"d1": at(time.Minute), "d2": at(time.Hour)}},
			{map[string]time.Time{"d1": at(2 * time.Minute), "d2": at(2 * time.Hour), "d3": at(3 * time.Minute)},
				map[string]time.Time{"d1": at(2 * time.Minute), "d2": at(2 * time.Hour), "d3": at(3 * time.Minute)}},
			// An older batch applied late (another replica's) changes nothing.
			{map[string]time.Time{"d1": at(time.Minute), "d3": at(time.Minute)},
				map[string]time.Time{"d1": at(2 * time.Minute), "d2": at(2 * time.Hour), "d3": at(3 * time.Minute)}},
		}
		for i, st := range steps {
			if err := s.TouchCheckins(ctx(t), st.seen); err != nil {
				t.Fatalf("step %d: %v", i, err)
			}
			for _, d := range []store.Device{d1, d2, d3} {
				got := mustDevice(t, s, d.ID)
				if !utc(got.LastCheckin).Equal(utc(st.want[d.ID])) {
					t.Errorf("step %d: last check-in of %s = %v, want %v", i, d.ID, got.LastCheckin, st.want[d.ID])
				}
				// Only the time changes: what the device reported stays.
				want := d
				want.LastCheckin = got.LastCheckin
				checkDevice(t, got, want)
			}
		}
		if g := mustGeneration(t, s); g != gen {
			t.Errorf("touching check-ins moved the generation from %d to %d: every device would build its payload again", gen, g)
		}
	})

	t.Run("groups", func(t *testing.T) {
		s := newStore(t)
		d := sampleDevice("d1", at(0))
		mustCreateDevice(t, s, d)
		mustCreateDevice(t, s, sampleDevice("d2", at(0)))
		for _, groups := range [][]string{{"sales"}, {"sales", "lyon", "kiosk"}, nil} {
			if err := s.SetDeviceGroups(ctx(t), d.ID, groups); err != nil {
				t.Fatalf("SetDeviceGroups(%v): %v", groups, err)
			}
			want := d
			want.Groups = groups
			checkDevice(t, mustDevice(t, s, d.ID), want)
		}
		// The other device is untouched.
		checkDevice(t, mustDevice(t, s, "d2"), sampleDevice("d2", at(0)))
	})

	t.Run("left", func(t *testing.T) {
		s := newStore(t)
		mustCreateDevice(t, s, sampleDevice("d1", at(0)))
		mustCreateDevice(t, s, sampleDevice("d2", at(0)))
		if mustDevice(t, s, "d1").Left {
			t.Fatal("a new device is marked left")
		}
		for range 2 { // marking twice is harmless
			if err := s.MarkDeviceLeft(ctx(t), "d1", at(time.Hour)); err != nil {
				t.Fatalf("MarkDeviceLeft: %v", err)
			}
		}
		want := sampleDevice("d1", at(0))
		want.Left = true
		checkDevice(t, mustDevice(t, s, "d1"), want)
		if mustDevice(t, s, "d2").Left {
			t.Error("MarkDeviceLeft marked another device")
		}
	})
}
