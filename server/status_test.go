package server

import (
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/protocol/schedule"
	"github.com/mobileatwork/mobileatwork/server/store"
)

func TestDelivered(t *testing.T) {
	now := time.Date(2027, 3, 1, 10, 0, 0, 0, time.UTC)
	earlier := now.Add(-time.Hour)
	next := now.Add(23 * time.Hour)
	once := store.Configuration{ID: "c1", Kind: store.KindScript, Version: 2, Script: store.ScriptSettings{Schedule: schedule.Spec{Kind: schedule.Once}}}
	daily := store.Configuration{ID: "c1", Kind: store.KindScript, Version: 2, Script: store.ScriptSettings{Schedule: schedule.Spec{Kind: schedule.Daily, At: "09:00"}}}
	maw := store.Configuration{ID: "m1", Kind: store.KindMobileAtWork, Name: "Lab", Version: 1, Priority: 2}
	winner := &store.Configuration{ID: "m0", Name: "Fleet", Priority: 1}
	st := func(version int, status, detail string) *store.DeviceStatus {
		return &store.DeviceStatus{ConfigID: "c1", Version: version, Status: status, Detail: detail, UpdatedAt: earlier}
	}
	result := func(status string, exit int) *store.StoredResult {
		return &store.StoredResult{Result: protocol.Result{Status: status, ExitCode: exit, AssignmentVersion: 2}}
	}
	tests := []struct {
		name        string
		prev        *store.DeviceStatus
		c           store.Configuration
		r           role
		latest      *store.StoredResult
		next        time.Time
		wantStatus  string
		wantDetail  string
		wantUpdated time.Time
	}{
		{name: "in effect", c: maw, r: roleInEffect, wantStatus: store.StatusInstalled, wantDetail: "in effect (priority 2)", wantUpdated: now},
		{name: "in effect again keeps its time", prev: &store.DeviceStatus{ConfigID: "m1", Version: 1, Status: store.StatusInstalled, Detail: "in effect (priority 2)", UpdatedAt: earlier},
			c: maw, r: roleInEffect, wantStatus: store.StatusInstalled, wantDetail: "in effect (priority 2)", wantUpdated: earlier},
		{name: "superseded names the winner", c: maw, r: roleSuperseded, wantStatus: store.StatusSuperseded, wantDetail: `"Fleet" (priority 1) is in effect`, wantUpdated: now},
		{name: "installed becomes superseded", prev: &store.DeviceStatus{ConfigID: "m1", Version: 1, Status: store.StatusInstalled, UpdatedAt: earlier},
			c: maw, r: roleSuperseded, wantStatus: store.StatusSuperseded, wantDetail: `"Fleet" (priority 1) is in effect`, wantUpdated: now},
		{name: "no Mobile@Work configuration", c: once, r: roleNoMAW, wantStatus: store.StatusError, wantDetail: DetailNoMobileAtWork, wantUpdated: now},
		{name: "no Mobile@Work configuration replaces a run's status", prev: st(2, protocol.StatusSucceeded, "exit 0 in 0s"),
			c: once, r: roleNoMAW, wantStatus: store.StatusError, wantDetail: DetailNoMobileAtWork, wantUpdated: now},
		{name: "once, first delivery", c: once, r: roleScript, wantStatus: store.StatusScheduled, wantDetail: "delivered: runs now", wantUpdated: now},
		{name: "once, after the error of no Mobile@Work configuration", prev: st(2, protocol.StatusError, DetailNoMobileAtWork),
			c: once, r: roleScript, wantStatus: store.StatusScheduled, wantDetail: "delivered: runs now", wantUpdated: now},
		{name: "pending becomes scheduled", prev: st(2, store.StatusPending, DetailNotFetched), c: once, r: roleScript,
			wantStatus: store.StatusScheduled, wantDetail: "delivered: runs now", wantUpdated: now},
		{name: "running stays running", prev: st(2, store.StatusRunning, "fetched"), c: once, r: roleScript,
			wantStatus: store.StatusRunning, wantDetail: "fetched", wantUpdated: earlier},
		{name: "a result stays", prev: st(2, protocol.StatusFailed, "exit 3"), c: once, r: roleScript,
			wantStatus: protocol.StatusFailed, wantDetail: "exit 3", wantUpdated: earlier},
		{name: "a result of this version found without a status", c: once, r: roleScript, latest: result(protocol.StatusFailed, 4),
			wantStatus: protocol.StatusFailed, wantDetail: "exit 4", wantUpdated: now},
		{name: "a console-user error stays", prev: st(2, protocol.StatusError, "no user logged in"), c: once, r: roleScript,
			wantStatus: protocol.StatusError, wantDetail: "no user logged in", wantUpdated: earlier},
		{name: "a new version starts afresh", prev: st(1, protocol.StatusSucceeded, "exit 0 in 1s"), c: once, r: roleScript,
			wantStatus: store.StatusScheduled, wantDetail: "delivered: runs now", wantUpdated: now},
		{name: "daily, first delivery", c: daily, r: roleScript, next: next,
			wantStatus: store.StatusScheduled, wantDetail: "next run 2027-03-02T09:00:00Z", wantUpdated: now},
		{name: "daily with no run left", c: daily, r: roleScript,
			wantStatus: store.StatusScheduled, wantDetail: "no run left in the schedule's dates", wantUpdated: now},
		{name: "daily after a run keeps the run's status", prev: st(2, protocol.StatusSucceeded, "exit 0 in 2ms"), c: daily, r: roleScript, next: next,
			wantStatus: protocol.StatusSucceeded, wantDetail: "exit 0 in 2ms", wantUpdated: earlier},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := delivered(tt.prev, tt.c, tt.r, winner, tt.latest, tt.next, now)
			if got.Status != tt.wantStatus || got.Detail != tt.wantDetail || !got.UpdatedAt.Equal(tt.wantUpdated) || got.Version != tt.c.Version {
				t.Fatalf("delivered = %s %q (v%d, %v); want %s %q at %v", got.Status, got.Detail, got.Version, got.UpdatedAt, tt.wantStatus, tt.wantDetail, tt.wantUpdated)
			}
			if tt.r == roleScript && !got.NextRun.Equal(tt.next) {
				t.Fatalf("next run = %v, want %v", got.NextRun, tt.next)
			}
		})
	}
}

func TestResultStatus(t *testing.T) {
	tests := []struct {
		r              protocol.Result
		status, detail string
	}{
		{protocol.Result{Status: protocol.StatusSucceeded, DurationMS: 1500}, protocol.StatusSucceeded, "exit 0 in 1.5s"},
		{protocol.Result{Status: protocol.StatusFailed, ExitCode: 3}, protocol.StatusFailed, "exit 3"},
		{protocol.Result{Status: protocol.StatusTimedOut, DurationMS: 60000}, protocol.StatusTimedOut, "stopped after 1m0s"},
		{protocol.Result{Status: protocol.StatusRejected, Error: "bad signature"}, protocol.StatusRejected, "bad signature"},
		{protocol.Result{Status: protocol.StatusError, Error: "no user logged in"}, protocol.StatusError, "no user logged in"},
	}
	for _, tt := range tests {
		if s, d := resultStatus(tt.r); s != tt.status || d != tt.detail {
			t.Errorf("resultStatus(%+v) = %s %q, want %s %q", tt.r, s, d, tt.status, tt.detail)
		}
	}
}

func TestChanged(t *testing.T) {
	base := store.DeviceStatus{ConfigID: "c", DeviceID: "d", Version: 1, Status: store.StatusScheduled, Detail: "x", NextRun: time.Unix(100, 0)}
	if changed(&base, base) {
		t.Fatal("an identical status counts as changed")
	}
	for _, mod := range []func(*store.DeviceStatus){
		func(s *store.DeviceStatus) { s.Version = 2 },
		func(s *store.DeviceStatus) { s.Status = store.StatusRunning },
		func(s *store.DeviceStatus) { s.Detail = "y" },
		func(s *store.DeviceStatus) { s.NextRun = time.Unix(200, 0) },
	} {
		next := base
		mod(&next)
		if !changed(&base, next) {
			t.Errorf("change to %+v not seen", next)
		}
	}
	if !changed(nil, base) {
		t.Fatal("a first status is not a change")
	}
}
