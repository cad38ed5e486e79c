package storetest

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/server/distribution"
	"github.com/mobileatwork/mobileatwork/server/store"
)

func testProfiles(t *testing.T, newStore NewStore) {
	t.Run("round trip in creation order", func(t *testing.T) {
		s := newStore(t)
		if got, err := s.Profiles(ctx(t)); err != nil || len(got) != 0 {
			t.Fatalf("empty store: %v, %v", got, err)
		}
		want := []store.Profile{
			{ID: "prf_b", Name: "VPN", Identifier: "com.example.vpn", CreatedAt: at(time.Second),
				Targets: []distribution.Target{{Kind: distribution.DeviceGroup, Value: "lab"}, {Kind: distribution.User, Value: "ada@example.com"}}},
			{ID: "prf_a", Name: "Wi-Fi", Identifier: "com.example.wifi", CreatedAt: at(0), Targets: []distribution.Target{{Kind: distribution.All}}},
		}
		for _, p := range want {
			if err := s.CreateProfile(ctx(t), p); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.Profiles(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		want[0], want[1] = want[1], want[0]
		for i := range got {
			got[i].CreatedAt = utc(got[i].CreatedAt)
			want[i].CreatedAt = utc(want[i].CreatedAt)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("profiles =\n %+v\nwant\n %+v", got, want)
		}
	})
	t.Run("distribution", func(t *testing.T) {
		s := newStore(t)
		p := store.Profile{ID: "prf_a", Name: "Wi-Fi", Identifier: "com.example.wifi", CreatedAt: at(0), Targets: []distribution.Target{{Kind: distribution.All}}}
		if err := s.CreateProfile(ctx(t), p); err != nil {
			t.Fatal(err)
		}
		lab := []distribution.Target{{Kind: distribution.DeviceGroup, Value: "lab"}}
		if err := s.SetProfileTargets(ctx(t), "prf_a", lab); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Profiles(ctx(t)); len(got) != 1 || !reflect.DeepEqual(got[0].Targets, lab) {
			t.Fatalf("after SetProfileTargets: %+v", got)
		}
		if err := s.SetProfileTargets(ctx(t), "prf_a", nil); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Profiles(ctx(t)); len(got[0].Targets) != 0 {
			t.Fatalf("withdrawn profile keeps targets %v", got[0].Targets)
		}
		if err := s.SetProfileTargets(ctx(t), "prf_nope", lab); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("SetProfileTargets of an unknown profile = %v, want ErrNotFound", err)
		}
	})
	t.Run("duplicates", func(t *testing.T) {
		s := newStore(t)
		p := store.Profile{ID: "prf_a", Name: "Wi-Fi", Identifier: "com.example.wifi", CreatedAt: at(0)}
		if err := s.CreateProfile(ctx(t), p); err != nil {
			t.Fatal(err)
		}
		sameID := store.Profile{ID: "prf_a", Name: "Other", Identifier: "com.example.other", CreatedAt: at(0)}
		sameIdentifier := store.Profile{ID: "prf_b", Name: "Other", Identifier: "com.example.wifi", CreatedAt: at(0)}
		for _, d := range []store.Profile{sameID, sameIdentifier} {
			if err := s.CreateProfile(ctx(t), d); !errors.Is(err, store.ErrExists) {
				t.Errorf("CreateProfile(%+v) = %v, want ErrExists", d, err)
			}
		}
		if got, _ := s.Profiles(ctx(t)); len(got) != 1 || got[0].Name != "Wi-Fi" {
			t.Errorf("after duplicates: %+v, want the first profile only", got)
		}
	})
}
