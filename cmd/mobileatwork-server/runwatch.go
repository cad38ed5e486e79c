package main

import (
	"context"
	"time"

	"github.com/mobileatwork/mobileatwork/server"
	"github.com/mobileatwork/mobileatwork/server/adminapi"
	"github.com/mobileatwork/mobileatwork/server/jsonview"
)

// remotePoll is how often `run --wait` asks a remote server where a run
// stands; on the data directory it reads as often as the server's own
// watch does.
const remotePoll = time.Second

// runEvent is news of a run on one device: an attempt started running
// (Result nil), or its result arrived.
type runEvent struct {
	DeviceID string
	Status   string
	Detail   string // of a running status
	Result   *jsonview.Result
}

// watchRun reports the progress of run id on the devices from runs.show,
// read again and again, until each has a final result, ctx ends or wait
// has passed; the news is told by server.Attempts, the rule of the
// server's own watch. It returns the final results by device; devices
// absent from it did not answer in time.
func watchRun(ctx context.Context, c adminapi.Conn, id string, devices []string, wait time.Duration, fn func(runEvent)) (map[string]jsonview.Result, error) {
	poll := remotePoll
	if c.Server() != nil {
		poll = server.DefaultWakePoll
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	want := make(map[string]bool, len(devices))
	for _, d := range devices {
		want[d] = true
	}
	got := map[string]jsonview.Result{}
	var w server.Attempts
	req := adminapi.RunShowRequest{ID: id}
	for len(got) < len(want) {
		view, err := adminapi.Call(ctx, c, adminapi.ShowRun, req)
		if err != nil {
			if ctx.Err() != nil {
				break // the time ran out in the middle of a read
			}
			return got, err
		}
		for _, st := range view.Statuses {
			if _, done := got[st.DeviceID]; want[st.DeviceID] && !done && w.StartedNow(st.DeviceID, st.Status.Status, instant(st.UpdatedAt)) {
				fn(runEvent{DeviceID: st.DeviceID, Status: st.Status.Status, Detail: st.Detail})
			}
		}
		for _, r := range view.Results {
			if r.ReceivedAt != nil {
				// Inclusive: a result received in the same instant is read again.
				req.Since = r.ReceivedAt.Format(time.RFC3339Nano)
			}
			if _, done := got[r.DeviceID]; !want[r.DeviceID] || done || !w.Ended(r.RunID, r.DeviceID, instant(r.RetryAt), instant(r.ReceivedAt)) {
				continue
			}
			if r.RetryAt == nil {
				got[r.DeviceID] = r
			}
			fn(runEvent{DeviceID: r.DeviceID, Status: r.Status, Result: &r})
		}
		if len(got) == len(want) {
			break
		}
		select {
		case <-ctx.Done():
			return got, nil
		case <-time.After(poll):
		}
	}
	return got, nil
}

// instant is an optional instant of a document, zero when absent.
func instant(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}
