package main

import (
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server"
	"github.com/mobileatwork/mobileatwork/server/adminapi"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// run --wait tells each attempt once as running and each result once,
// for the devices of the run only, and stops at the wait.
func TestWatchRunReportsRunningAndResults(t *testing.T) {
	s, err := server.Init(filepath.Join(t.TempDir(), "tenant"), "Test tenant", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ctx := t.Context()
	for _, id := range []string{"d1", "d2", "d3"} {
		if err := s.Store.CreateDevice(ctx, store.Device{ID: id, EnrolledAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.AddScript(ctx, "hello", "", []byte("echo hi\n"), nil); err != nil {
		t.Fatal(err)
	}
	rn, err := s.RunNow(ctx, server.RunNowRequest{Script: "hello", Devices: []string{"d1", "d2", "d3"}})
	if err != nil {
		t.Fatal(err)
	}
	id, now := rn.Config.ID, time.Now().UTC()
	if err := s.Store.PutStatuses(ctx, []store.DeviceStatus{{ConfigID: id, DeviceID: "d2", Version: 1, Status: store.StatusRunning, UpdatedAt: now}}); err != nil {
		t.Fatal(err)
	}
	for _, r := range []protocol.Result{
		{RunID: "r1", DeviceID: "d1", AssignmentID: id, AssignmentVersion: 1, Status: protocol.StatusSucceeded, Stdout: "hi\n"},
		{RunID: "r3", DeviceID: "d3", AssignmentID: id, AssignmentVersion: 1, Status: protocol.StatusFailed, ExitCode: 2, RetryAt: now.Add(time.Minute), Attempt: 1},
		{RunID: "r3b", DeviceID: "d3", AssignmentID: id, AssignmentVersion: 1, Status: protocol.StatusFailed, ExitCode: 2, Attempt: 2},
		{RunID: "other", DeviceID: "d2", AssignmentID: "cfg_other", AssignmentVersion: 1, Status: protocol.StatusSucceeded},
	} {
		if _, err := s.Store.PutResult(ctx, r, now); err != nil {
			t.Fatal(err)
		}
	}
	var events []runEvent
	start := time.Now()
	got, err := watchRun(ctx, adminapi.Local{S: s}, id, []string{"d1", "d2", "d3"}, time.Second, func(e runEvent) { events = append(events, e) })
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < time.Second || took > 3*time.Second {
		t.Errorf("the watch took %s, want about its second of wait", took)
	}
	if len(got) != 2 || got["d1"].Stdout != "hi\n" || got["d3"].RunID != "r3b" {
		t.Fatalf("final results %+v, want d1's and d3's second attempt (d2 still runs)", got)
	}
	var seen []string
	for _, e := range events {
		what := e.DeviceID + " " + e.Status
		if e.Result != nil {
			what += " " + e.Result.RunID
		}
		seen = append(seen, what)
	}
	want := []string{"d2 running", "d1 succeeded r1", "d3 failed r3", "d3 failed r3b"}
	if !slices.Equal(seen, want) {
		t.Fatalf("events %q, want %q", seen, want)
	}
}
