package server

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// writeCounter counts the two ways a check-in is recorded, and can refuse
// touches.
type writeCounter struct {
	store.AllStorage
	records, touches atomic.Int32
	refuse           atomic.Bool
}

func (c *writeCounter) RecordCheckin(ctx context.Context, id string, ch store.Checkin) (string, error) {
	c.records.Add(1)
	return c.AllStorage.RecordCheckin(ctx, id, ch)
}

func (c *writeCounter) TouchCheckins(ctx context.Context, seen map[string]time.Time) error {
	c.touches.Add(1)
	if c.refuse.Load() {
		return errors.New("refused")
	}
	return c.AllStorage.TouchCheckins(ctx, seen)
}

func TestCheckinReportingNothingNewOnlyTouches(t *testing.T) {
	s, err := Init(t.TempDir()+"/data", "Seen", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	counter := &writeCounter{AllStorage: s.Store}
	s.Store = counter
	now := t0
	s.Now = func() time.Time { return now }
	cert := fakeDevice(t, s, "dev_1", 1)
	h := s.Handler()
	facts := protocol.Facts{SerialNumber: "C02SEEN", Hostname: "mac-1", OSVersion: "15.3"}
	lastCheckin := func() time.Time {
		t.Helper()
		d, err := s.Store.Device(t.Context(), "dev_1")
		if err != nil {
			t.Fatal(err)
		}
		return d.LastCheckin
	}

	steps := []struct {
		name             string
		facts            protocol.Facts
		caps             []string
		records, touches int32 // counted so far
	}{
		{"first report of facts", facts, []string{protocol.CapSchedule}, 1, 0},
		{"the same again", facts, []string{protocol.CapSchedule}, 1, 1},
		{"capabilities changed", facts, nil, 2, 1},
		{"the same again", facts, nil, 2, 2},
		{"host name changed", protocol.Facts{SerialNumber: "C02SEEN", Hostname: "mac-2", OSVersion: "15.3"}, nil, 3, 2},
	}
	for i, st := range steps {
		now = t0.Add(time.Duration(i+1) * time.Minute)
		req := checkinBody("dev_1")
		req.Facts, req.Capabilities = st.facts, st.caps
		if code := deviceRequest(h, cert, protocol.PathCheckin, req).Code; code != http.StatusOK {
			t.Fatalf("%s: check-in answered %d", st.name, code)
		}
		if r, tc := counter.records.Load(), counter.touches.Load(); r != st.records || tc != st.touches {
			t.Fatalf("%s: %d records and %d touches, want %d and %d", st.name, r, tc, st.records, st.touches)
		}
		if got := lastCheckin(); !got.Equal(now) {
			t.Fatalf("%s: last check-in %v, want %v", st.name, got, now)
		}
	}

	// Gathered, as Serve does: nothing is written until the batch is.
	s.seen.start()
	now = now.Add(time.Minute)
	req := checkinBody("dev_1")
	req.Facts = steps[len(steps)-1].facts
	if code := deviceRequest(h, cert, protocol.PathCheckin, req).Code; code != http.StatusOK {
		t.Fatalf("gathered check-in answered %d", code)
	}
	if tc := counter.touches.Load(); tc != 2 {
		t.Fatalf("a gathered check-in was written at once (%d touches)", tc)
	}
	before := lastCheckin()
	// A batch the store refuses is kept for the next one.
	counter.refuse.Store(true)
	s.seen.flush(t.Context(), s.Store, zap.NewNop())
	counter.refuse.Store(false)
	if got := lastCheckin(); !got.Equal(before) {
		t.Fatalf("refused batch: last check-in %v, want %v", got, before)
	}
	s.seen.flush(t.Context(), s.Store, zap.NewNop())
	if got := lastCheckin(); !got.Equal(now) {
		t.Fatalf("after the batch: last check-in %v, want %v", got, now)
	}
	if tc := counter.touches.Load(); tc != 4 {
		t.Fatalf("%d touches, want 4: the refused batch and the one that held", tc)
	}
}

func TestSeenBatchKeepsTheLatestTime(t *testing.T) {
	var b seenBatch
	b.start()
	for _, n := range []struct {
		id string
		at time.Duration
	}{{"a", 2}, {"a", 1}, {"b", 1}, {"b", 3}} {
		if err := b.note(t.Context(), nil, n.id, t0.Add(n.at*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]time.Time{"a": t0.Add(2 * time.Second), "b": t0.Add(3 * time.Second)}
	if len(b.pending) != len(want) {
		t.Fatalf("pending %v, want %v", b.pending, want)
	}
	for id, at := range want {
		if !b.pending[id].Equal(at) {
			t.Errorf("pending %s = %v, want %v", id, b.pending[id], at)
		}
	}
}
