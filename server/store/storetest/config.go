package storetest

import (
	"maps"
	"testing"

	"github.com/mobileatwork/mobileatwork/server/store"
)

func mustConfig(t *testing.T, s store.AllStorage) map[string]string {
	t.Helper()
	kv, err := s.Config(ctx(t))
	if err != nil {
		t.Fatalf("Config: %v", err)
	}
	return kv
}

func testConfig(t *testing.T, newStore NewStore) {
	s := newStore(t)
	if got := mustConfig(t, s); got == nil || len(got) != 0 {
		t.Fatalf("Config of an empty store = %#v, want an empty, non-nil map", got)
	}
	// Each step is applied to the same store in order.
	steps := []struct {
		name string
		set  map[string]string
		want map[string]string
	}{
		{"set", map[string]string{"checkin_interval_minutes": "15", "max_execution_seconds": "60"},
			map[string]string{"checkin_interval_minutes": "15", "max_execution_seconds": "60"}},
		{"overwrite one, add one", map[string]string{"checkin_interval_minutes": "5", "onboarding.landing_url": "https://intranet.example.com/?a=1&b=é"},
			map[string]string{"checkin_interval_minutes": "5", "max_execution_seconds": "60", "onboarding.landing_url": "https://intranet.example.com/?a=1&b=é"}},
		{"empty value", map[string]string{"max_execution_seconds": ""},
			map[string]string{"checkin_interval_minutes": "5", "max_execution_seconds": "", "onboarding.landing_url": "https://intranet.example.com/?a=1&b=é"}},
		{"nothing to set", nil,
			map[string]string{"checkin_interval_minutes": "5", "max_execution_seconds": "", "onboarding.landing_url": "https://intranet.example.com/?a=1&b=é"}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if err := s.SetConfig(ctx(t), st.set); err != nil {
				t.Fatalf("SetConfig: %v", err)
			}
			if got := mustConfig(t, s); !maps.Equal(got, st.want) {
				t.Fatalf("Config = %v, want %v", got, st.want)
			}
		})
	}
}
