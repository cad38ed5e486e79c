package trigger

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/protocol/schedule"
)

var t0 = time.Date(2027, 1, 4, 9, 0, 0, 0, time.UTC)

func open(t *testing.T, dir string) *Record {
	t.Helper()
	r, err := Open(filepath.Join(dir, File))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// A login is a user at the console who was not there at the previous
// look; the first look and a restart with the same user are none.
func TestConsoleUserLogins(t *testing.T) {
	dir := t.TempDir()
	r := open(t, dir)
	steps := []struct {
		user    string
		restart bool // reopen the record first: a daemon restart
		login   bool
	}{
		{user: "ada"}, // the first look: a baseline
		{user: "ada"},
		{user: "ada", restart: true},
		{user: ""},
		{user: "ada", login: true},
		{user: "bob", login: true}, // fast user switch
		{user: "bob", restart: true},
		{user: "", restart: true},
		{user: "bob", restart: true, login: true},
	}
	for i, s := range steps {
		if s.restart {
			r = open(t, dir)
		}
		now := t0.Add(time.Duration(i) * time.Minute)
		login, err := r.ConsoleUser(s.user, now)
		if err != nil {
			t.Fatal(err)
		}
		if login != s.login {
			t.Errorf("step %d (%q): login = %v, want %v", i, s.user, login, s.login)
		}
		if s.login && !r.Last(schedule.Login).Equal(now) {
			t.Errorf("step %d: last login %v, want %v", i, r.Last(schedule.Login), now)
		}
	}
}

// A network change is a new set of addresses that held for the debounce;
// a flap back within it is none, and a restart keeps the baseline.
func TestAddressesDebounced(t *testing.T) {
	dir := t.TempDir()
	r := open(t, dir)
	const debounce = 5 * time.Second
	a, b, c := []string{"10.0.0.2/24"}, []string{"10.0.0.2/24", "192.168.1.9/24"}, []string{"172.16.0.4/16"}
	steps := []struct {
		at      time.Duration
		addrs   []string
		restart bool
		changed bool
	}{
		{at: 0, addrs: a}, // baseline
		{at: 2 * time.Second, addrs: a},
		{at: 4 * time.Second, addrs: b},                 // seen
		{at: 6 * time.Second, addrs: a},                 // flapped back: nothing
		{at: 8 * time.Second, addrs: b},                 // seen again
		{at: 10 * time.Second, addrs: c},                // still moving
		{at: 12 * time.Second, addrs: c},                // held 2 s
		{at: 15 * time.Second, addrs: c, changed: true}, // held 5 s
		{at: 17 * time.Second, addrs: c},
		{at: 19 * time.Second, addrs: c, restart: true},
		{at: 21 * time.Second, addrs: []string{"172.16.0.4/16", "172.16.0.4/16"}}, // order and duplicates do not count
	}
	for i, s := range steps {
		if s.restart {
			r = open(t, dir)
		}
		changed, err := r.Addresses(s.addrs, t0.Add(s.at), debounce)
		if err != nil {
			t.Fatal(err)
		}
		if changed != s.changed {
			t.Errorf("step %d: changed = %v, want %v", i, changed, s.changed)
		}
	}
	if got := r.Last(schedule.Network); !got.Equal(t0.Add(15 * time.Second)) {
		t.Errorf("last network change %v, want the one at 15 s", got)
	}
}

// Events sent before the daemon reads the spool wait there; each is
// recorded once and its file removed; a bad file is removed and reported.
func TestSpoolSendAndConsume(t *testing.T) {
	state := t.TempDir()
	r := open(t, state)
	if err := Send(state, "vpn-up", t0, "e1"); err != nil {
		t.Fatal(err)
	}
	if err := Send(state, "vpn-up", t0.Add(time.Minute), "e2"); err != nil {
		t.Fatal(err)
	}
	if err := Send(state, "later", t0.Add(time.Hour), "e3"); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(state, SpoolDir))
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("spool directory: %v, %v; want 0700", fi, err)
	}
	if err := os.WriteFile(filepath.Join(state, SpoolDir, "bad.json"), []byte(`{"name":"a b","at":"2027-01-04T09:00:00Z"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	now := t0.Add(2 * time.Minute)
	n, err := r.Consume(state, now)
	if err == nil || !strings.Contains(err.Error(), "bad.json") {
		t.Errorf("Consume error = %v, want the bad file named", err)
	}
	if n != 3 { // vpn-up twice, in order, and later
		t.Errorf("recorded %d occurrences, want 3", n)
	}
	if got := r.Last(Key(schedule.Spec{Kind: schedule.Event, Event: "vpn-up"})); !got.Equal(t0.Add(time.Minute)) {
		t.Errorf("vpn-up last at %v, want its latest sending", got)
	}
	if got := r.Last("event:later"); !got.Equal(now) {
		t.Errorf("an event stamped in the future counts at %v, want now %v", got, now)
	}
	ents, _ := os.ReadDir(filepath.Join(state, SpoolDir))
	if len(ents) != 0 {
		t.Errorf("%d files left in the spool, want none", len(ents))
	}
	// Reopened (a restart), the record holds the occurrences.
	if got := open(t, state).Last("event:vpn-up"); !got.Equal(t0.Add(time.Minute)) {
		t.Errorf("after a restart vpn-up last at %v", got)
	}
	if err := Send(state, "no/slash", t0, "e4"); err == nil {
		t.Error("Send took a malformed name")
	}
	if ents, _ := os.ReadDir(filepath.Join(state, SpoolDir)); len(ents) != 0 {
		t.Errorf("a refused event left %d files", len(ents))
	}
}

// Reading the same spooled event twice (a crash before its file was
// removed) records it once.
func TestEventIdempotent(t *testing.T) {
	r := open(t, t.TempDir())
	for i, want := range []bool{true, false} {
		got, err := r.Event("x", t0)
		if err != nil || got != want {
			t.Errorf("record %d: %v, %v; want %v", i, got, err, want)
		}
	}
}
