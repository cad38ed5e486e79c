package agent

import (
	"context"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/mobileatwork/mobileatwork/internal/logging"
	"github.com/mobileatwork/mobileatwork/protocol"
)

func sentMessages(lines []protocol.LogLine) string {
	var out []string
	for _, l := range lines {
		out = append(out, l.Level+" "+l.Message)
	}
	return strings.Join(out, "\n")
}

// The warnings and errors of the agent's log go out with the next check-in,
// oldest first; other levels do not.
func TestCheckinSendsRecentLog(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()

	a := e.agent(t, Options{})
	if _, err := a.Checkin(ctx); err != nil {
		t.Fatal(err)
	}
	if got := e.lastCheckin(t).RecentLog; got != nil {
		t.Fatalf("without a RecentLog the request carries %q", sentMessages(got))
	}

	recent := logging.NewAgentRecent()
	a = e.agent(t, Options{Log: zap.New(recent.Core(zapcore.DebugLevel)), RecentLog: recent})
	a.o.Log.Info("not sent")
	a.o.Log.Warn("disk nearly full", zap.String("path", "/var"))
	a.o.Log.Error("outbox", zap.String("error", "permission denied"))
	if _, err := a.Checkin(ctx); err != nil {
		t.Fatal(err)
	}
	req := e.lastCheckin(t)
	want := "warn disk nearly full path=/var\nerror outbox error=\"permission denied\""
	if got := sentMessages(req.RecentLog); got != want {
		t.Fatalf("sent\n%s\nwant\n%s", got, want)
	}
	for _, l := range req.RecentLog {
		if l.Time.IsZero() {
			t.Errorf("line %q has no time", l.Message)
		}
	}
}
