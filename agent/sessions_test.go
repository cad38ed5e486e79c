package agent

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/mobileatwork/mobileatwork/executor"
	"github.com/mobileatwork/mobileatwork/server"
)

// checkinResumed checks in once on a new connection (a new agent: a new
// HTTP client) and tells whether the server saw a resumed TLS session.
func checkinResumed(t *testing.T, e *testEnv) bool {
	t.Helper()
	before := e.resumed.Load()
	a := e.agent(t, Options{})
	if _, err := a.Checkin(context.Background()); err != nil {
		t.Fatal(err)
	}
	return e.resumed.Load() > before
}

// The agent keeps the server's session tickets in its state directory: a
// restarted agent resumes the session; a damaged file costs one full
// handshake and is replaced.
func TestTLSSessionsResumeAcrossRestarts(t *testing.T) {
	e := newTestEnv(t)
	path := filepath.Join(e.state, sessionsFile)
	if checkinResumed(t, e) {
		t.Fatal("the first connection after enrollment resumed a session")
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("no saved sessions after a check-in: %v", err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("%s has mode %#o, want 0600", sessionsFile, perm)
	}
	if !checkinResumed(t, e) {
		t.Fatal("a restarted agent did not resume its saved session")
	}

	for _, damage := range []string{"{not json", `{"127.0.0.1": {"ticket": "AA==", "state": "AA=="}}`} {
		if err := os.WriteFile(path, []byte(damage), 0o600); err != nil {
			t.Fatal(err)
		}
		if checkinResumed(t, e) {
			t.Fatalf("resumed from the damaged file %q", damage)
		}
		if !checkinResumed(t, e) {
			t.Fatalf("after the damaged file %q was replaced, the next agent did not resume", damage)
		}
	}
}

// One cycle (check-in, script download, result upload) travels over one
// connection.
func TestCycleReusesOneConnection(t *testing.T) {
	e := newTestEnv(t)
	fx := &fakeExec{status: executor.Succeeded}
	a := e.agent(t, Options{Exec: fx.run})
	ctx := context.Background()
	sc, err := e.srv.AddScript(ctx, "hello", "", []byte("#!/bin/sh\necho hi\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.srv.Assign(ctx, "Say hello", "", server.ScriptRequest{Script: sc.ID}, []string{"all"}); err != nil {
		t.Fatal(err)
	}
	before := e.conns.Load()
	if err := a.Cycle(ctx); err != nil {
		t.Fatal(err)
	}
	if fx.runs.Load() != 1 || len(pending(t, a)) != 0 {
		t.Fatalf("%d runs, %d results not delivered; want the script run and its result delivered", fx.runs.Load(), len(pending(t, a)))
	}
	if n := e.conns.Load() - before; n != 1 {
		t.Errorf("one cycle opened %d connections, want 1", n)
	}
}
