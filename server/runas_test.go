package server

import (
	"context"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/distribution"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// A configuration stored before run_as was always set (an empty column)
// reaches the device as root: agents refuse any value but root and
// console_user.
func TestCheckinSendsRootForEmptyRunAs(t *testing.T) {
	s, err := Init(t.TempDir()+"/data", "Run as", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ctx := context.Background()
	if _, err := s.Distribute(ctx, "default", []string{"all"}, false); err != nil {
		t.Fatal(err)
	}
	d, cert := benchDevice(t, s, "dev_runas")
	sc := addScript(t, s, "old", "true\n")
	now := time.Now()
	c := store.Configuration{ID: "cfg_old", Kind: store.KindScript, Name: "old", Version: 1,
		Script: store.ScriptSettings{ScriptID: sc.ID}, CreatedAt: now, UpdatedAt: now,
		Targets: []distribution.Target{{Kind: distribution.Device, Value: d.ID}}}
	c.Script.Schedule.Kind = "once"
	if err := s.Store.CreateConfiguration(ctx, c); err != nil {
		t.Fatal(err)
	}
	req := protocol.CheckinRequest{ProtocolVersion: protocol.Version, DeviceID: d.ID, AgentVersion: "1.80.0",
		Capabilities: d.Capabilities, Nonce: make([]byte, 32)}
	p, _, err := s.checkin(ctx, d, req, cert)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Assignments) != 1 || p.Assignments[0].RunAs != protocol.RunAsRoot {
		var got []string
		for _, a := range p.Assignments {
			got = append(got, a.RunAs)
		}
		t.Fatalf("run_as of the assignments %q, want one root", got)
	}
}
