package e2e

import (
	"context"
	"os"
	"os/user"
	"strconv"
	"strings"
	"testing"

	"github.com/mobileatwork/mobileatwork/agent"
	"github.com/mobileatwork/mobileatwork/executor"
	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server"
)

// A console_user script waits for a user: "no user logged in" is reported
// once, then the script runs as that user when one logs in.
func TestRunAsConsoleUser(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	state := e.enroll()
	ctx := context.Background()
	sc := e.addScript("id -u\necho \"$HOME\"\n", nil)
	e.assign(server.ScriptRequest{Script: sc.ID, RunAs: protocol.RunAsConsoleUser}, "all")
	// As root, run as an unprivileged account, as on a Mac; otherwise as
	// ourselves.
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		if me, err = user.Lookup("nobody"); err != nil {
			t.Skip("no unprivileged account to run as:", err)
		}
	}
	uid, _ := strconv.Atoi(me.Uid)
	gid, _ := strconv.Atoi(me.Gid)
	// A parent of ours that the account may traverse (t.TempDir's parent
	// is private to us).
	userRuns, err := os.MkdirTemp("", "maw-e2e-runs-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(userRuns) })
	var console *executor.User // nil: nobody logged in
	mk := func() *agent.Agent {
		return newAgentWith(t, state, func(o *agent.Options) {
			o.Capabilities = nil
			o.UserRunDir = userRuns
			o.ConsoleUser = func() (executor.User, error) {
				if console == nil {
					return executor.User{}, executor.ErrNoConsoleUser
				}
				return *console, nil
			}
		})
	}
	for i := 0; i < 3; i++ {
		if err := mk().Cycle(ctx); err != nil {
			t.Fatal(err)
		}
	}
	rs := e.results()
	if len(rs) != 1 || rs[0].Status != protocol.StatusError || !strings.Contains(rs[0].Error, "no user logged in") {
		t.Fatalf("without a console user: %+v, want one error result", rs)
	}
	console = &executor.User{UID: uint32(uid), GID: uint32(gid), Name: me.Username, Home: me.HomeDir}
	if err := mk().Cycle(ctx); err != nil {
		t.Fatal(err)
	}
	rs = e.results()
	if len(rs) != 2 || rs[1].Status != protocol.StatusSucceeded || rs[1].Stdout != me.Uid+"\n"+me.HomeDir+"\n" {
		t.Fatalf("with a console user: %+v", rs[len(rs)-1])
	}
	if err := mk().Cycle(ctx); err != nil || len(e.results()) != 2 {
		t.Fatalf("ran again after it succeeded: %v", err)
	}
}
