package e2e

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/agent"
	"github.com/mobileatwork/mobileatwork/server"
	"github.com/mobileatwork/mobileatwork/server/accounts"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// A retired Mac is refused from its next request, over mutual TLS with its
// real certificate; the same Mac enrolled again with a new token gets a new
// certificate and is served, while the retired one stays refused.
func TestRetiredDeviceIsCutOffUntilEnrolledAgain(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	state := e.enroll()
	a := newAgent(t, state)
	if err := a.Cycle(context.Background()); err != nil {
		t.Fatalf("cycle before retire: %v", err)
	}
	id := a.Status().DeviceID
	ctx := server.WithActor(context.Background(), server.Actor{Name: "local:ada", Kind: store.ActorLocal, Role: accounts.RoleAdmin})
	if _, err := e.srv.RetireDevice(ctx, id, "lost on a train"); err != nil {
		t.Fatal(err)
	}
	err := newAgent(t, state).Cycle(context.Background())
	if err == nil || !strings.Contains(err.Error(), server.RetiredMessage) {
		t.Fatalf("cycle after retire: %v, want refused with %q", err, server.RetiredMessage)
	}

	again := filepath.Join(t.TempDir(), "again")
	if _, err := agent.Enroll(context.Background(), agent.EnrollOptions{
		StateDir: again, ServerURL: e.url, Token: e.token(1, time.Hour), Facts: testFacts,
	}); err != nil {
		t.Fatal(err)
	}
	b := newAgent(t, again)
	if err := b.Cycle(context.Background()); err != nil {
		t.Fatalf("cycle of the Mac enrolled again: %v", err)
	}
	if b.Status().DeviceID == id {
		t.Fatal("enrolled again under the retired device's id")
	}
	if err := newAgent(t, state).Cycle(context.Background()); err == nil {
		t.Fatal("the retired certificate is served again")
	}
}
