package server

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/zap"

	"github.com/mobileatwork/mobileatwork/internal/routines"
	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// DefaultSeenEvery is how long Serve gathers the check-ins that reported
// nothing new before it records their times in one write.
const DefaultSeenEvery = time.Second

// Most check-ins report what the device reported last time: the same
// facts, capabilities, agent version and log. Writing each one durably
// would make the database's writer, not the answer, the cost of a quiet
// check-in. Serve records their times a batch at a time instead: what is
// lost if the process dies between two batches is a second of "last
// check-in" times, which the next check-ins restore; no result, status or
// fact depends on them.

// seenBatch gathers the times of check-ins that reported nothing new and
// records them together. Without a running loop (a Handler served outside
// Serve) each is recorded at once.
// Its zero value is ready.
type seenBatch struct {
	mu      sync.Mutex
	running bool
	pending map[string]time.Time
}

// note records that device id checked in at at, now or with the next batch.
func (b *seenBatch) note(ctx context.Context, st store.DeviceStore, id string, at time.Time) error {
	b.mu.Lock()
	if b.running {
		if prev, ok := b.pending[id]; !ok || at.After(prev) {
			b.pending[id] = at
		}
		b.mu.Unlock()
		return nil
	}
	b.mu.Unlock()
	return st.TouchCheckins(ctx, map[string]time.Time{id: at})
}

// run records the gathered times every every until ctx is done; the
// caller flushes what is left once nothing notes any more.
func (b *seenBatch) run(ctx context.Context, st store.DeviceStore, log *zap.Logger, clock clockwork.Clock, every time.Duration) {
	for routines.Sleep(ctx, clock, every) {
		b.flush(ctx, st, log)
	}
}

// start makes note gather rather than write.
func (b *seenBatch) start() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.running = true
	if b.pending == nil {
		b.pending = map[string]time.Time{}
	}
}

// flush records the gathered times. A batch that fails is put back, under
// the times noted since: they are as good a record, and newer.
func (b *seenBatch) flush(ctx context.Context, st store.DeviceStore, log *zap.Logger) {
	b.mu.Lock()
	batch := b.pending
	b.pending = map[string]time.Time{}
	b.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	if err := st.TouchCheckins(ctx, batch); err != nil {
		log.Warn("record check-in times", zap.Int("devices", len(batch)), zap.Error(err))
		b.mu.Lock()
		for id, at := range batch {
			if _, ok := b.pending[id]; !ok {
				b.pending[id] = at
			}
		}
		b.mu.Unlock()
	}
}

// reportsNothingNew tells whether a check-in reports what the device
// already has on record, so only its time is new. Any difference, however
// it came (a store that cleaned a character), is a full record.
func reportsNothingNew(d store.Device, c store.Checkin) bool {
	type reported struct {
		Facts        protocol.Facts
		Capabilities []string
		RecentLog    []protocol.LogLine
	}
	had, err1 := json.Marshal(reported{d.Facts, nonNil(d.Capabilities), nonNil(d.RecentLog)})
	now, err2 := json.Marshal(reported{c.Facts, nonNil(c.Capabilities), nonNil(c.RecentLog)})
	return err1 == nil && err2 == nil && d.AgentVersion == c.Facts.AgentVersion && string(had) == string(now)
}
