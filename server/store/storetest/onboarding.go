package storetest

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/store"
)

func sampleOnboarding(state string) protocol.OnboardingReport {
	return protocol.OnboardingReport{
		DeviceID: "d1", State: state, StartedAt: at(0).UTC(), Deadline: at(2 * time.Minute).UTC(), Current: "Slack",
		Stages: []protocol.OnboardingStage{
			{Name: "Configurations", Status: protocol.ItemInstalled, Items: []protocol.OnboardingItem{
				{ID: "prf_1", Name: "Wi-Fi", Kind: protocol.ItemKindProfile, Status: protocol.ItemInstalled},
			}},
			{Name: "Slack", Status: protocol.ItemFailed, Items: []protocol.OnboardingItem{
				{ID: "app_1", Name: "Slack", Kind: protocol.AppKindInHouse, Status: protocol.ItemFailed, Error: "installer: damaged"},
			}},
		},
		Background: []protocol.OnboardingItem{{ID: "app_2", Name: "Pages", Kind: protocol.AppKindAppsAndBooks, Status: protocol.ItemPending}},
		Log:        []protocol.OnboardingLogLine{{At: at(time.Second).UTC(), Message: "onboarding started"}},
	}
}

func testOnboarding(t *testing.T, newStore NewStore) {
	t.Run("unknown device", func(t *testing.T) {
		s := newStore(t)
		if err := s.PutOnboarding(ctx(t), "nope", sampleOnboarding(protocol.OnboardingRunning), at(0)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("PutOnboarding(unknown) = %v, want ErrNotFound", err)
		}
		if _, err := s.Onboarding(ctx(t), "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Onboarding(unknown) = %v, want ErrNotFound", err)
		}
	})
	t.Run("latest replaces", func(t *testing.T) {
		s := newStore(t)
		mustCreateDevice(t, s, sampleDevice("d1", at(0)))
		if _, err := s.Onboarding(ctx(t), "d1"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("before any report: %v, want ErrNotFound", err)
		}
		if err := s.PutOnboarding(ctx(t), "d1", sampleOnboarding(protocol.OnboardingRunning), at(time.Second)); err != nil {
			t.Fatal(err)
		}
		want := sampleOnboarding(protocol.OnboardingDone)
		if err := s.PutOnboarding(ctx(t), "d1", want, at(2*time.Second)); err != nil {
			t.Fatal(err)
		}
		got, err := s.Onboarding(ctx(t), "d1")
		if err != nil {
			t.Fatal(err)
		}
		if !got.ReceivedAt.Equal(at(2 * time.Second)) {
			t.Errorf("received at %s, want %s", got.ReceivedAt, at(2*time.Second))
		}
		if !reflect.DeepEqual(got.OnboardingReport, want) {
			t.Errorf("report =\n %+v\nwant\n %+v", got.OnboardingReport, want)
		}
	})
}
