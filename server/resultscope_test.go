package server

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// A device reports runs only of configurations that target it: a result
// of another device's configuration, or of no configuration at all, is
// refused by name and not stored, and never keeps the other results of
// the same post from being taken.
func TestResultsOfConfigurationsNotTargetingTheDeviceAreRefused(t *testing.T) {
	s := newTenant(t)
	ctx := t.Context()
	if _, err := s.Distribute(ctx, "default", []string{"all"}, false); err != nil {
		t.Fatal(err)
	}
	cert := fakeDevice(t, s, "d1", 1)
	fakeDevice(t, s, "d2", 2)
	sent := sentTo(t, s, "d1") // sent to d1, withdrawn since (targets no one)
	sc := addScript(t, s, "other", "true\n")
	theirs, _, err := s.Assign(ctx, "theirs", "", ScriptRequest{Script: sc.ID}, []string{"device:d2"})
	if err != nil {
		t.Fatal(err)
	}
	mine, _, err := s.Assign(ctx, "mine", "", ScriptRequest{Script: sc.ID}, []string{"device:d1"}) // reaches d1, not sent yet
	if err != nil {
		t.Fatal(err)
	}
	result := func(run, cfg string) protocol.Result {
		return protocol.Result{RunID: run, DeviceID: "d1", AssignmentID: cfg, AssignmentVersion: 1, Status: protocol.StatusSucceeded}
	}
	w := deviceRequest(s.Handler(), cert, protocol.PathResults, protocol.ResultsRequest{DeviceID: "d1", Results: []protocol.Result{
		result("r-theirs", theirs.ID),
		result("r-sent", sent),
		result("r-none", "cfg_made_up"),
		result("r-mine", mine.ID),
	}})
	var ack protocol.ResultsAck
	if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &ack) != nil {
		t.Fatalf("results: %d %s", w.Code, w.Body)
	}
	if !slices.Equal(ack.Accepted, []string{"r-sent", "r-mine"}) {
		t.Errorf("accepted %v, want r-sent and r-mine", ack.Accepted)
	}
	refused := map[string]string{}
	for _, r := range ack.Refused {
		refused[r.RunID] = r.Reason
	}
	if len(refused) != 2 || !strings.Contains(refused["r-theirs"], "does not target this device") || !strings.Contains(refused["r-none"], "does not target this device") {
		t.Errorf("refused %v, want r-theirs and r-none, saying why", refused)
	}
	rs, err := s.Store.Results(ctx, store.ResultFilter{DeviceID: "d1"})
	if err != nil {
		t.Fatal(err)
	}
	var stored []string
	for _, r := range rs {
		stored = append(stored, r.RunID)
	}
	slices.Sort(stored)
	if !slices.Equal(stored, []string{"r-mine", "r-sent"}) {
		t.Errorf("stored %v, want r-mine and r-sent only", stored)
	}
}
