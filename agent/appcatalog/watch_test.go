package appcatalog

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/mobileatwork/mobileatwork/internal/routines"
	"github.com/mobileatwork/mobileatwork/protocol"
)

// changingSource is a catalog that a check-in may change, counting reads.
type changingSource struct {
	fakeSource
	mu    sync.Mutex
	reads int
}

func (c *changingSource) Catalog() (protocol.Catalog, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reads++
	return protocol.Catalog{ReceivedAt: time.Unix(1, 0), Apps: c.apps}, nil
}

func (c *changingSource) set(apps []protocol.AppOffer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.apps = apps
}

func (c *changingSource) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reads
}

// Watch reads the catalog and the inventory only while a page is open: the
// daemon serves Apps@Work for as long as it runs.
func TestWatchOnlyWhileAPageIsOpen(t *testing.T) {
	src := &changingSource{}
	src.apps = []protocol.AppOffer{{ID: "a1", Name: "Tools", Kind: protocol.AppKindInHouse}}
	clock := clockwork.NewFakeClock()
	s := New(Options{Source: src, StateDir: t.TempDir(), InventoryRoot: t.TempDir(), Clock: clock})
	g := routines.New(t.Context())
	defer g.Close()
	g.Go(func(ctx context.Context) { s.Watch(ctx, time.Second) })
	// step moves the clock by a look once Watch waits for it.
	step := func() {
		t.Helper()
		if err := clock.BlockUntilContext(t.Context(), 1); err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Second)
	}

	for range 5 {
		step()
	}
	if err := clock.BlockUntilContext(t.Context(), 1); err != nil { // the fifth look is over
		t.Fatal(err)
	}
	if n := src.count(); n != 0 {
		t.Fatalf("catalog read %d times in 5 looks with no page open", n)
	}

	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/api/events", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	lines := make(chan string)
	g.Go(func(ctx context.Context) {
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
	})
	src.set(append(src.apps, protocol.AppOffer{ID: "a2", Name: "Notes", Kind: protocol.AppKindInHouse}))
	step()
	for deadline := time.After(5 * time.Second); ; {
		select {
		case l := <-lines:
			if strings.HasPrefix(l, "data:") && strings.Contains(l, `"Notes"`) {
				return // the open page heard of the new app without a reload
			}
		case <-deadline:
			t.Fatalf("the open page was not told of the new app (%d catalog reads)", src.count())
		}
	}
}
