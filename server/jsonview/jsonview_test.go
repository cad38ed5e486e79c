package jsonview

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// The documents of lists never hold null where a list is expected, and
// `onboarding --json` keeps its keys sorted, as it always printed them,
// and its unset instants null.
func TestDocumentsHoldNoNullLists(t *testing.T) {
	at := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		doc  any
		want string
	}{
		{"onboarding of an older agent", NewOnboardingDetail(store.StoredOnboarding{OnboardingReport: protocol.OnboardingReport{DeviceID: "dev_1", State: "running", StartedAt: at}, ReceivedAt: at}),
			`{"background":[],"current":"","deadline":null,"device_id":"dev_1","ended_at":null,"landing_url":"","log":[],"progress":null,"received_at":"2026-11-27T09:00:00Z","stages":[],"started_at":"2026-11-27T09:00:00Z","state":"running"}`},
		{"an app with nothing to show", NewAppInfo(server.AppInfo{App: store.App{ID: "app_1", Name: "Tools", Kind: "packager", CreatedAt: at}}),
			`{"id":"app_1","name":"Tools","kind":"packager","version":"","priority":false,"created_at":"2026-11-27T09:00:00Z","screenshots":[],"rating":0,"reviews":[],"distributions":[]}`},
		{"a profile to no one", NewProfile(store.Profile{ID: "prf_1", Name: "Wi-Fi", Identifier: "com.example.wifi", CreatedAt: at}),
			`{"id":"prf_1","name":"Wi-Fi","identifier":"com.example.wifi","distribution":{"level":"none","targets":[]},"created_at":"2026-11-27T09:00:00Z"}`},
		{"a distribution to a user", NewAppDistribution(store.AppDistribution{ID: "dst_1", Target: "user", TargetID: "ada@example.com"}),
			`{"id":"dst_1","target":"user:ada@example.com"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.Marshal(tc.doc)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tc.want {
				t.Errorf("got  %s\nwant %s", b, tc.want)
			}
		})
	}
}
