package server

import (
	"fmt"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/protocol/schedule"
)

// An answer carries what fits under the agent's limit, oldest first, and
// says there is more; finished run-once configurations are not sent again,
// so rounds drain them all. A recurring configuration and a run waiting for
// a console user are never finished.
func TestCheckinPagesAndSkipsFinished(t *testing.T) {
	s := newTenant(t)
	ctx := t.Context()
	if _, err := s.Distribute(ctx, "default", []string{"all"}, false); err != nil {
		t.Fatal(err)
	}
	d, cert := benchDevice(t, s, "dev_page")
	sc := addScript(t, s, "count", "true\n")
	var onceIDs []string
	for i := range 30 {
		c, _, err := s.Assign(ctx, fmt.Sprintf("once %02d", i), "", ScriptRequest{Script: sc.ID}, []string{"all"})
		if err != nil {
			t.Fatal(err)
		}
		onceIDs = append(onceIDs, c.ID)
	}
	daily := schedule.Spec{Kind: schedule.Daily, At: "09:00"}
	rec, _, err := s.Assign(ctx, "daily", "", ScriptRequest{Script: sc.ID, Schedule: &daily}, []string{"all"})
	if err != nil {
		t.Fatal(err)
	}
	waiting, _, err := s.Assign(ctx, "as the user", "", ScriptRequest{Script: sc.ID, RunAs: protocol.RunAsConsoleUser}, []string{"all"})
	if err != nil {
		t.Fatal(err)
	}
	req := protocol.CheckinRequest{ProtocolVersion: protocol.Version, DeviceID: d.ID, AgentVersion: "1.80.0",
		Capabilities: d.Capabilities, Nonce: make([]byte, 32), MaxResponseBytes: 40 << 10}
	report := func(id string, version int, waitingFor string) {
		t.Helper()
		r := protocol.Result{RunID: "run-" + id, DeviceID: d.ID, AssignmentID: id, AssignmentVersion: version,
			Status: protocol.StatusSucceeded, Waiting: waitingFor}
		if waitingFor != "" {
			r.Status, r.Error = protocol.StatusError, "no user logged in"
		}
		if _, err := s.Store.PutResult(ctx, r, time.Now()); err != nil {
			t.Fatal(err)
		}
		st, detail := resultStatus(r)
		if err := s.setRunStatus(ctx, d, id, version, st, detail, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	sent := map[string]int{}
	rounds := 0
	for ; rounds < 40; rounds++ {
		p, _, err := s.checkin(ctx, d, req, cert)
		if err != nil {
			t.Fatal(err)
		}
		if size := protocol.EncodedSize(p.Assignments); size > req.MaxResponseBytes {
			t.Fatalf("round %d: %d bytes of assignments for an agent that takes %d", rounds, size, req.MaxResponseBytes)
		}
		for _, a := range p.Assignments {
			sent[a.ID]++
			switch a.ID {
			case rec.ID:
			case waiting.ID:
				report(a.ID, a.Version, protocol.WaitingConsoleUser)
			default:
				report(a.ID, a.Version, "")
			}
		}
		if !p.More {
			break
		}
	}
	if rounds < 2 {
		t.Fatalf("%d rounds: the limit did not page the answer", rounds+1)
	}
	for _, id := range onceIDs {
		if sent[id] != 1 {
			t.Fatalf("run-once %s sent %d times, want once", id, sent[id])
		}
	}
	p, _, err := s.checkin(ctx, d, req, cert)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, a := range p.Assignments {
		ids = append(ids, a.ID)
	}
	if p.More || len(ids) != 2 {
		t.Fatalf("after every run-once finished: %v, more=%v; want the daily one and the one waiting for a user", ids, p.More)
	}
}
