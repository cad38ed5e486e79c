package server

import (
	"context"
	"fmt"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/zap"

	"github.com/mobileatwork/mobileatwork/internal/routines"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// Defaults of the results purge.
const (
	// DefaultPurgeBatch bounds the rows one DELETE removes, so the SQLite
	// writer is never held for long and check-ins commit between batches.
	DefaultPurgeBatch = 10_000
	// DefaultPurgeEvery is the wait between two purges.
	DefaultPurgeEvery = time.Hour
)

// ResultPurge deletes results older than Keep: once when Run starts, then
// every Every. Zero fields take the defaults; Keep must be positive.
type ResultPurge struct {
	Store store.ResultStore
	Keep  time.Duration
	Batch int
	Every time.Duration
	Clock clockwork.Clock
	Log   *zap.Logger
}

func (p *ResultPurge) defaults() {
	if p.Batch <= 0 {
		p.Batch = DefaultPurgeBatch
	}
	if p.Every <= 0 {
		p.Every = DefaultPurgeEvery
	}
	if p.Clock == nil {
		p.Clock = clockwork.NewRealClock()
	}
	if p.Log == nil {
		p.Log = zap.NewNop()
	}
}

// Run purges until ctx is done. A failed purge is logged and tried again
// at the next turn: retention is housekeeping and must not stop serving.
func (p *ResultPurge) Run(ctx context.Context) {
	p.defaults()
	for {
		n, err := p.Once(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			p.Log.Error("purge old results", zap.Error(err), zap.Int("deleted", n))
		case n > 0:
			p.Log.Info("purged old results", zap.Int("deleted", n), zap.Duration("keep", p.Keep))
		}
		if !routines.Sleep(ctx, p.Clock, p.Every) {
			return
		}
	}
}

// Once deletes every result received before now minus Keep, a batch at a
// time, and reports how many it deleted.
func (p *ResultPurge) Once(ctx context.Context) (int, error) {
	p.defaults()
	if p.Keep <= 0 {
		return 0, fmt.Errorf("results retention must be positive, got %s", p.Keep)
	}
	before := p.Clock.Now().Add(-p.Keep)
	total := 0
	for {
		n, err := p.Store.PurgeResults(ctx, before, p.Batch)
		total += n
		if err != nil || n < p.Batch {
			return total, err
		}
	}
}

// startPurge runs the results purge in g when s keeps results for a
// limited time.
func (s *Server) startPurge(g *routines.Group) {
	if s.ResultsRetention <= 0 {
		return
	}
	p := &ResultPurge{Store: s.Store, Keep: s.ResultsRetention, Log: s.Log.Named("retention")}
	g.Go(p.Run)
}
