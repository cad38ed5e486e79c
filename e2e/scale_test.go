package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/protocol/schedule"
	"github.com/mobileatwork/mobileatwork/server/distribution"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// A finished run-once configuration is not sent again: a device whose run
// ledger was deleted or emptied does not run it twice.
func TestLostLedgerDoesNotRerunFinishedScripts(t *testing.T) {
	t.Parallel()
	for _, lose := range []struct {
		name string
		do   func(path string) error
	}{
		{"deleted", os.Remove},
		{"null", func(p string) error { return os.WriteFile(p, []byte("null"), 0o600) }},
		{"empty object", func(p string) error { return os.WriteFile(p, []byte("{}"), 0o600) }},
	} {
		t.Run(lose.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			state := e.enroll()
			counter := filepath.Join(t.TempDir(), "count")
			e.script("echo run >> "+counter+"\n", nil)
			e.cycle(state)
			e.cycle(state)
			if err := lose.do(filepath.Join(state, "ledger", "ledger.json")); err != nil {
				t.Fatal(err)
			}
			e.cycle(state)
			e.cycle(state)
			if b, _ := os.ReadFile(counter); string(b) != "run\n" {
				t.Fatalf("runs after the ledger was lost: %q, want one", b)
			}
			if n := len(e.results()); n != 1 {
				t.Fatalf("%d results, want 1", n)
			}
		})
	}
}

// A device that 10,000 configurations reach still checks in: the answer
// carries what fits under the agent's limit and says there is more.
// (Running them all is another matter: each run rewrites the agent's run
// ledger, so thousands in one round are slow.)
func TestTenThousandConfigurationsStillCheckIn(t *testing.T) {
	t.Parallel()
	n := 10000
	if testing.Short() {
		n = 3000
	}
	e := newEnv(t)
	state := e.enroll()
	ctx := context.Background()
	sc := e.addScript("true\n", nil)
	now := time.Now()
	for i := range n {
		c := store.Configuration{ID: fmt.Sprintf("cfg_many%05d", i), Kind: store.KindScript, Name: fmt.Sprintf("many %05d", i),
			Version: 1, Script: store.ScriptSettings{ScriptID: sc.ID, RunAs: protocol.RunAsRoot, Schedule: schedule.Spec{Kind: schedule.Once}},
			Targets: []distribution.Target{{Kind: distribution.All}}, CreatedAt: now.Add(time.Duration(i)), UpdatedAt: now}
		if err := e.srv.Store.CreateConfiguration(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	a := newAgent(t, state)
	p, err := a.Checkin(ctx)
	if err != nil {
		t.Fatalf("check-in with %d configurations: %v", n, err)
	}
	if !p.More || len(p.Assignments) == 0 || len(p.Assignments) >= n {
		t.Fatalf("answer carries %d of %d assignments, more=%v; want a part and more", len(p.Assignments), n, p.More)
	}
	if p.Assignments[0].ID != "cfg_many00000" {
		t.Fatalf("first assignment %s, want the oldest configuration first", p.Assignments[0].ID)
	}
	t.Logf("%d configurations: the first answer carries %d", n, len(p.Assignments))
}
