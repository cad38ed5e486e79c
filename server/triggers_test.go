package server

import (
	"slices"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/protocol/schedule"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// Triggered configurations reach only agents that announce triggers; on an
// older agent they are withheld and in error, saying why, until it
// upgrades. A login trigger is not finished by a run; an enrollment one is.
func TestTriggeredConfigurations(t *testing.T) {
	s := newTenant(t)
	ctx := t.Context()
	if _, err := s.Distribute(ctx, "default", []string{"all"}, false); err != nil {
		t.Fatal(err)
	}
	sc := addScript(t, s, "hello", "true\n")
	assign := func(name string, spec *schedule.Spec) string {
		t.Helper()
		c, _, err := s.Assign(ctx, name, "", ScriptRequest{Script: sc.ID, Schedule: spec}, []string{"all"})
		if err != nil {
			t.Fatal(err)
		}
		return c.ID
	}
	once := assign("once", nil)
	login := assign("login", &schedule.Spec{Kind: schedule.Login})
	enrollment := assign("enrollment", &schedule.Spec{Kind: schedule.Enrollment})
	event := assign("event", &schedule.Spec{Kind: schedule.Event, Event: "vpn-up"})

	d, cert := benchDevice(t, s, "dev_old")
	checkin := func(caps ...string) (protocol.CheckinPayload, map[string]store.DeviceStatus) {
		t.Helper()
		d.Capabilities = caps
		req := protocol.CheckinRequest{ProtocolVersion: protocol.Version, DeviceID: d.ID, AgentVersion: "1.80.0",
			Capabilities: caps, Nonce: make([]byte, 32)}
		p, _, err := s.checkin(ctx, d, req, cert)
		if err != nil {
			t.Fatal(err)
		}
		sts, err := s.Store.DeviceStatuses(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		byID := map[string]store.DeviceStatus{}
		for _, st := range sts {
			byID[st.ConfigID] = st
		}
		return p, byID
	}
	sent := func(p protocol.CheckinPayload) map[string]schedule.Spec {
		out := map[string]schedule.Spec{}
		for _, a := range p.Assignments {
			out[a.ID] = a.Schedule
		}
		return out
	}

	// An agent without triggers: only the run-once configuration.
	p, sts := checkin(protocol.CapSchedule)
	if got := sent(p); len(got) != 1 || got[once].Kind != schedule.Once {
		t.Fatalf("an agent without triggers got %v, want only the run-once configuration", got)
	}
	for _, id := range []string{login, enrollment, event} {
		if st := sts[id]; st.Status != protocol.StatusError || st.Detail != DetailNoTriggers {
			t.Errorf("%s on an agent without triggers: %s %q, want error %q", id, st.Status, st.Detail, DetailNoTriggers)
		}
	}

	// Upgraded: every trigger is delivered as it is, and scheduled.
	caps := []string{protocol.CapSchedule, protocol.CapTriggers}
	p, sts = checkin(caps...)
	got := sent(p)
	wantKinds := map[string]string{once: schedule.Once, login: schedule.Login, enrollment: schedule.Enrollment, event: schedule.Event}
	for id, kind := range wantKinds {
		if got[id].Kind != kind {
			t.Errorf("%s delivered as %+v, want kind %s", id, got[id], kind)
		}
	}
	if got[event].Event != "vpn-up" {
		t.Errorf("event trigger delivered as %+v, want the event's name", got[event])
	}
	if st := sts[login]; st.Status != store.StatusScheduled || st.Detail != "delivered: runs at each login" {
		t.Errorf("login on an upgraded agent: %s %q, want scheduled, runs at each login", st.Status, st.Detail)
	}

	// Each has run once: the enrollment one is finished, the others repeat.
	for _, id := range []string{once, login, enrollment, event} {
		r := protocol.Result{RunID: "run-" + id, DeviceID: d.ID, AssignmentID: id, AssignmentVersion: 1,
			Status: protocol.StatusSucceeded, Occurrence: time.Now().UTC()}
		if _, err := s.Store.PutResult(ctx, r, time.Now()); err != nil {
			t.Fatal(err)
		}
		st, detail := resultStatus(r)
		if err := s.setRunStatus(ctx, d, id, 1, st, detail, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	p, _ = checkin(caps...)
	var ids []string
	for id := range sent(p) {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	want := []string{login, event}
	slices.Sort(want)
	if !slices.Equal(ids, want) {
		t.Errorf("after a run of each: %v sent, want the login and event ones %v", ids, want)
	}
}
