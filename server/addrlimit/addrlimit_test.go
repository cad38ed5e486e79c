package addrlimit

import (
	"fmt"
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)

func TestAllow(t *testing.T) {
	type try struct {
		addr string
		at   time.Duration
		ok   bool
		wait time.Duration
	}
	tests := []struct {
		name  string
		tries []try
	}{
		{"a burst, then one every 10 s", []try{
			{"192.0.2.1:1000", 0, true, 0},
			{"192.0.2.1:1001", 0, true, 0},
			{"192.0.2.1:1002", 0, true, 0},
			{"192.0.2.1:1003", 0, false, 10 * time.Second},
			{"192.0.2.1:1004", 4 * time.Second, false, 6 * time.Second},
			{"192.0.2.1:1005", 10 * time.Second, true, 0},
			{"192.0.2.1:1006", 10 * time.Second, false, 10 * time.Second},
		}},
		{"addresses are apart", []try{
			{"192.0.2.1:1", 0, true, 0}, {"192.0.2.1:1", 0, true, 0}, {"192.0.2.1:1", 0, true, 0},
			{"192.0.2.1:1", 0, false, 10 * time.Second},
			{"192.0.2.2:1", 0, true, 0},
		}},
		{"one IPv6 /64 is one address", []try{
			{"[2001:db8::1]:1", 0, true, 0}, {"[2001:db8::2]:1", 0, true, 0}, {"[2001:db8::3]:1", 0, true, 0},
			{"[2001:db8::ffff:1]:1", 0, false, 10 * time.Second},
			{"[2001:db8:0:1::1]:1", 0, true, 0},
		}},
		{"IPv4 mapped in IPv6 is the IPv4 address", []try{
			{"192.0.2.9:1", 0, true, 0}, {"192.0.2.9:1", 0, true, 0}, {"192.0.2.9:1", 0, true, 0},
			{"[::ffff:192.0.2.9]:1", 0, false, 10 * time.Second},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := New(6, 3, 100)
			for i, tr := range tt.tries {
				ok, wait := l.Allow(tr.addr, t0.Add(tr.at))
				if ok != tr.ok || (wait-tr.wait).Abs() > time.Millisecond {
					t.Errorf("try %d (%s at +%s) = %v, %s; want %v, %s", i, tr.addr, tr.at, ok, wait, tr.ok, tr.wait)
				}
			}
		})
	}
}

// However many addresses come, the table holds at most max: idle buckets
// are dropped, and the addresses that find no room share one bucket.
func TestBoundedMemory(t *testing.T) {
	l := New(6, 1, 10)
	for i := range 1000 {
		l.Allow(fmt.Sprintf("198.51.%d.%d:1", i/256, i%256), t0)
	}
	if n := l.Len(); n > 10 {
		t.Fatalf("%d buckets, want at most 10", n)
	}
	// The addresses beyond the table share the overflow: it is spent.
	if ok, _ := l.Allow("203.0.113.1:1", t0); ok {
		t.Error("a new address in a full table of busy ones was let through the spent shared bucket")
	}
	// A minute on, the buckets are full again: a sweep makes room.
	later := t0.Add(time.Minute)
	if ok, _ := l.Allow("203.0.113.2:1", later); !ok {
		t.Error("a new address was refused after the idle buckets could be dropped")
	}
	if n := l.Len(); n != 1 {
		t.Errorf("%d buckets after the sweep, want the new address's alone", n)
	}
}
