package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/distribution"
	"github.com/mobileatwork/mobileatwork/server/store"
)

func mustGeneration(t *testing.T, s store.AllStorage) int64 {
	t.Helper()
	g, err := s.Generation(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// Every change a check-in payload is built from grows the generation: a
// change that did not would leave devices answered "unchanged" without it.
// A device's own reports do not, or no check-in would ever be cheap.
func testGeneration(t *testing.T, newStore NewStore) {
	s := newStore(t)
	c := ctx(t)
	all := []distribution.Target{{Kind: distribution.All}}
	lab := []distribution.Target{{Kind: distribution.DeviceGroup, Value: "lab"}}
	sc := sampleScript("s1", at(0))
	steps := []struct {
		name  string
		do    func() error
		grows bool
	}{
		{"create device", func() error { return s.CreateDevice(c, sampleDevice("d1", at(0))) }, false},
		{"add user without a name", func() error { return s.PutUser(c, store.User{Email: "ada@example.com", CreatedAt: at(0)}) }, false},
		{"put user again without a name", func() error { return s.PutUser(c, store.User{Email: "ada@example.com", CreatedAt: at(0)}) }, false},
		{"record check-in", func() error {
			_, err := s.RecordCheckin(c, "d1", store.Checkin{Facts: protocol.Facts{Hostname: "other"}, At: at(time.Minute)})
			return err
		}, false},
		{"create script", func() error { return s.CreateScript(c, sc) }, true},
		{"update script", func() error {
			up := sc
			up.Version, up.Description, up.UpdatedAt = 1, "new words", at(time.Hour)
			return s.UpdateScript(c, up)
		}, true},
		{"new script version", func() error {
			up := sc
			up.Version, up.BlobSHA256, up.UpdatedAt = 2, "0000000000000000000000000000000000000000000000000000000000000000", at(time.Hour)
			return s.UpdateScript(c, up)
		}, true},
		{"create configuration", func() error { return s.CreateConfiguration(c, sampleScriptConfig("c1", "one", "s1", at(0), all...)) }, true},
		{"create Mobile@Work configuration", func() error { return s.CreateConfiguration(c, sampleMAWConfig("m1", "maw", 1, at(0))) }, true},
		{"distribute configuration", func() error {
			cfg := sampleMAWConfig("m1", "maw", 1, at(0), lab...)
			return s.UpdateConfiguration(c, cfg)
		}, true},
		{"edit settings", func() error {
			cfg := sampleMAWConfig("m1", "maw", 1, at(0), lab...)
			cfg.Settings, cfg.Version = map[string]string{"checkin_interval_minutes": "5"}, 2
			return s.UpdateConfiguration(c, cfg)
		}, true},
		{"set priorities", func() error { return s.SetPriorities(c, []string{"m1"}, at(time.Hour)) }, true},
		{"put statuses", func() error {
			return s.PutStatuses(c, []store.DeviceStatus{{ConfigID: "c1", DeviceID: "d1", Version: 3, Status: store.StatusScheduled, UpdatedAt: at(0)}})
		}, false},
		{"put result", func() error { _, err := s.PutResult(c, sampleResult("r1", "d1", "s1"), at(0)); return err }, false},
		{"put inventory", func() error { return s.PutInventory(c, "d1", sampleInventory("d1", at(0)), at(0)) }, false},
		{"put onboarding", func() error { return s.PutOnboarding(c, "d1", sampleOnboarding(protocol.OnboardingRunning), at(0)) }, false},
		{"put delivery", func() error { return s.PutDelivery(c, store.Delivery{DeviceID: "d1", Digest: "x", SentAt: at(0)}) }, false},
		{"put key envelope", func() error {
			return s.PutKeyEnvelopes(c, []store.KeyEnvelope{{DeviceID: "d1", ConfigID: "c1", ConfigVersion: 3, BlobSHA256: "b", CertSerial: "01", Envelope: []byte{1}, CreatedAt: at(0)}})
		}, false},
		{"name a user", func() error { return s.PutUser(c, store.User{Email: "ada@example.com", Name: "Ada"}) }, true},
		{"add a named user", func() error { return s.PutUser(c, store.User{Email: "bob@example.com", Name: "Bob", CreatedAt: at(0)}) }, true},
		{"create user group", func() error {
			return s.CreateUserGroup(c, store.UserGroup{Name: "eng", Members: []string{"ada@example.com"}, CreatedAt: at(0)})
		}, true},
		{"change members", func() error { return s.SetUserGroupMembers(c, "eng", []string{"bob@example.com"}) }, true},
		{"empty a group", func() error { return s.SetUserGroupMembers(c, "eng", nil) }, true},
		{"create app", func() error { return s.CreateApp(c, sampleApp("a1", at(0))) }, true},
		{"put app details", func() error {
			return s.PutAppDetails(c, store.AppDetails{AppID: "a1", Publisher: "Mozilla", UpdatedAt: at(0)})
		}, true},
		{"add review", func() error {
			return s.AddReview(c, store.Review{ID: "rv1", AppID: "a1", Author: "ada", Rating: 5, CreatedAt: at(0)})
		}, true},
		{"distribute app", func() error {
			return s.AddAppDistribution(c, store.AppDistribution{ID: "ad1", AppID: "a1", Target: distribution.All, CreatedAt: at(0)})
		}, true},
		{"withdraw app", func() error { return s.SetAppDistributions(c, "a1", nil) }, true},
		{"create profile", func() error {
			return s.CreateProfile(c, store.Profile{ID: "p1", Name: "Wi-Fi", Identifier: "com.example.wifi", Targets: all, CreatedAt: at(0)})
		}, true},
		{"distribute profile", func() error { return s.SetProfileTargets(c, "p1", lab) }, true},
		{"delete configuration", func() error { return s.DeleteConfiguration(c, "c1") }, true},
		{"delete script", func() error { return s.DeleteScript(c, "s1") }, true},
	}
	prev := mustGeneration(t, s)
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		g := mustGeneration(t, s)
		if grew := g > prev; grew != st.grows {
			t.Errorf("%s: generation %d -> %d; want grown = %v", st.name, prev, g, st.grows)
		}
		if g < prev {
			t.Fatalf("%s: generation went back from %d to %d", st.name, prev, g)
		}
		prev = g
	}
}

func testDelivery(t *testing.T, newStore NewStore) {
	s := newStore(t)
	c := ctx(t)
	mustCreateDevice(t, s, sampleDevice("d1", at(0)))
	mustCreateDevice(t, s, sampleDevice("d2", at(0)))
	mustCreateScript(t, s, sampleScript("s1", at(0)))
	// Created out of id order: statuses come back by configuration id.
	mustCreateConfig(t, s, sampleScriptConfig("c2", "Two", "s1", at(0)))
	mustCreateConfig(t, s, sampleScriptConfig("c1", "One", "s1", at(0)))
	check := func(id string) store.DeliveryCheck {
		t.Helper()
		chk, err := s.DeliveryCheck(c, id)
		if err != nil {
			t.Fatal(err)
		}
		if g := mustGeneration(t, s); chk.Generation != g {
			t.Errorf("DeliveryCheck(%s).Generation = %d, Generation() = %d", id, chk.Generation, g)
		}
		chk.Delivery.RefreshAt, chk.Delivery.SentAt = utc(chk.Delivery.RefreshAt), utc(chk.Delivery.SentAt)
		return chk
	}
	for _, id := range []string{"d1", "nope"} {
		if chk := check(id); chk.Delivery != (store.Delivery{}) || len(chk.Marks) != 0 {
			t.Fatalf("DeliveryCheck(%s) before anything = %+v, want nothing found", id, chk)
		}
	}
	sts := []store.DeviceStatus{
		{ConfigID: "c1", DeviceID: "d1", Version: 3, Status: store.StatusScheduled, Detail: "weekly", NextRun: utc(at(time.Hour)), UpdatedAt: utc(at(0))},
		{ConfigID: "c2", DeviceID: "d1", Version: 3, Status: "succeeded", Detail: "exit 0", UpdatedAt: utc(at(time.Minute))},
		{ConfigID: "c1", DeviceID: "d2", Version: 3, Status: store.StatusPending, UpdatedAt: utc(at(0))},
	}
	if err := s.PutStatuses(c, sts); err != nil {
		t.Fatal(err)
	}
	marks := []store.StatusMark{{ConfigID: "c1", Version: 3, Status: store.StatusScheduled, Detail: "weekly"}, {ConfigID: "c2", Version: 3, Status: "succeeded", Detail: "exit 0"}}
	// Statuses without a delivery: a device whose payload was not recorded.
	if chk := check("d1"); chk.Delivery != (store.Delivery{}) || !reflect.DeepEqual(chk.Marks, marks) || !reflect.DeepEqual(store.Marks(sts[:2]), marks) {
		t.Fatalf("DeliveryCheck(d1) with statuses only = %+v, want its 2 marks, no delivery", chk)
	}
	for _, want := range []store.Delivery{
		{DeviceID: "d1", Digest: "aa", Basis: "bb", Generation: 7, RefreshAt: at(time.Hour), SentAt: at(time.Minute)},
		{DeviceID: "d1", Digest: "", Basis: "cc", Generation: 9, SentAt: at(2 * time.Minute)}, // replaced; no refresh
	} {
		if err := s.PutDelivery(c, want); err != nil {
			t.Fatal(err)
		}
		got := check("d1")
		want.RefreshAt, want.SentAt = utc(want.RefreshAt), utc(want.SentAt)
		if !reflect.DeepEqual(got.Delivery, want) {
			t.Errorf("delivery =\n %+v\nwant\n %+v", got.Delivery, want)
		}
		if !reflect.DeepEqual(got.Marks, marks) {
			t.Errorf("marks = %+v, want %+v", got.Marks, marks)
		}
	}
	// A delivery and no status; another device's rows stay its own.
	if err := s.PutDelivery(c, store.Delivery{DeviceID: "d2", Digest: "dd", Basis: "ee", Generation: 1, SentAt: at(0)}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteStatuses(c, "d2", []string{"c1"}); err != nil {
		t.Fatal(err)
	}
	if chk := check("d2"); chk.Delivery.Digest != "dd" || len(chk.Marks) != 0 {
		t.Fatalf("DeliveryCheck(d2) = %+v, want its delivery and no status", chk)
	}
	if err := s.PutDelivery(c, store.Delivery{DeviceID: "nope", SentAt: at(0)}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("PutDelivery for an unknown device = %v, want ErrNotFound", err)
	}
}

func testKeyEnvelopes(t *testing.T, newStore NewStore) {
	s := newStore(t)
	c := ctx(t)
	mustCreateDevice(t, s, sampleDevice("d1", at(0)))
	mustCreateDevice(t, s, sampleDevice("d2", at(0)))
	mustCreateScript(t, s, sampleScript("s1", at(0)))
	mustCreateConfig(t, s, sampleScriptConfig("c1", "one", "s1", at(0)))
	mustCreateConfig(t, s, sampleScriptConfig("c2", "two", "s1", at(0)))
	env := func(dev, cfg string, version int, b ...byte) store.KeyEnvelope {
		return store.KeyEnvelope{DeviceID: dev, ConfigID: cfg, ConfigVersion: version, BlobSHA256: "blob", CertSerial: "0a",
			Envelope: append([]byte{0x00, 0xff}, b...), CreatedAt: at(time.Duration(version) * time.Minute)}
	}
	check := func(dev string, want ...store.KeyEnvelope) {
		t.Helper()
		got, err := s.KeyEnvelopes(c, dev)
		if err != nil {
			t.Fatal(err)
		}
		for i := range got {
			got[i].CreatedAt = utc(got[i].CreatedAt)
		}
		for i := range want {
			want[i].CreatedAt = utc(want[i].CreatedAt)
		}
		if len(got) != len(want) || (len(want) > 0 && !reflect.DeepEqual(got, want)) {
			t.Errorf("envelopes of %s =\n %+v\nwant\n %+v", dev, got, want)
		}
	}
	check("d1")
	if err := s.PutKeyEnvelopes(c, []store.KeyEnvelope{env("d1", "c2", 1, 2), env("d1", "c1", 1, 1), env("d2", "c1", 1, 3)}); err != nil {
		t.Fatal(err)
	}
	check("d1", env("d1", "c1", 1, 1), env("d1", "c2", 1, 2))
	// A new version replaces the envelope of the same configuration.
	if err := s.PutKeyEnvelopes(c, []store.KeyEnvelope{env("d1", "c1", 2, 9)}); err != nil {
		t.Fatal(err)
	}
	check("d1", env("d1", "c1", 2, 9), env("d1", "c2", 1, 2))
	// One unknown configuration refuses the batch.
	if err := s.PutKeyEnvelopes(c, []store.KeyEnvelope{env("d1", "c2", 5), env("d1", "nope", 1)}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("PutKeyEnvelopes with an unknown configuration = %v, want ErrNotFound", err)
	}
	if err := s.PutKeyEnvelopes(c, []store.KeyEnvelope{env("nope", "c1", 1)}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("PutKeyEnvelopes for an unknown device = %v, want ErrNotFound", err)
	}
	check("d1", env("d1", "c1", 2, 9), env("d1", "c2", 1, 2))
	if err := s.DeleteConfiguration(c, "c1"); err != nil {
		t.Fatal(err)
	}
	check("d1", env("d1", "c2", 1, 2))
	check("d2")
}

func testLatestResults(t *testing.T, newStore NewStore) {
	s := newStore(t)
	c := ctx(t)
	put := func(run, dev, cfg string, version int, received time.Duration) {
		r := sampleResult(run, dev, "s1")
		r.AssignmentID, r.AssignmentVersion = cfg, version
		mustPutResult(t, s, r, at(received), true)
	}
	put("r1", "d1", "c1", 1, 0)
	put("r2", "d1", "c1", 2, time.Minute)
	put("r3", "d1", "c2", 1, time.Minute)
	put("r4", "d1", "c2", 1, time.Minute) // same instant: the later stored wins
	put("r5", "d2", "c3", 1, 2*time.Minute)
	put("r6", "d1", "c4", 1, time.Hour)
	got, err := s.LatestResults(c, "d1", []string{"c1", "c2", "c3", "none"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"c1": "r2", "c2": "r4"}
	if len(got) != len(want) {
		t.Fatalf("latest results %v, want %v", got, want)
	}
	for cfg, run := range want {
		if got[cfg].RunID != run {
			t.Errorf("latest of %s = %q, want %q", cfg, got[cfg].RunID, run)
		}
		one := mustResults(t, s, store.ResultFilter{DeviceID: "d1", ConfigID: cfg, Limit: 1})
		if !reflect.DeepEqual(normResult(got[cfg]), normResult(one[0])) {
			t.Errorf("latest of %s differs from Results with Limit 1", cfg)
		}
	}
	if got, err := s.LatestResults(c, "d1", nil); err != nil || len(got) != 0 {
		t.Fatalf("latest of no configuration: %v, %v", got, err)
	}
	// Many configurations at once, beyond any one-query parameter limit.
	ids := make([]string, 0, 2100)
	for i := range 2100 {
		ids = append(ids, "x"+string(rune('a'+i%26))+time.Duration(i).String())
	}
	ids = append(ids, "c4")
	if got, err := s.LatestResults(c, "d1", ids); err != nil || got["c4"].RunID != "r6" || len(got) != 1 {
		t.Fatalf("latest of 2,101 configurations: %v, %v", got, err)
	}
}

// The catalog and the onboarding plan are looked up per device too: like
// ConfigurationsFor, the targets index proposes a superset of what reaches
// the device and never misses one.
func testCatalogReach(t *testing.T, newStore NewStore) {
	s := newStore(t)
	i := 0
	for name, ts := range reachDistributions() {
		created := at(time.Duration(i) * time.Minute)
		i++
		app := sampleApp("a-"+name, created)
		if err := s.CreateApp(ctx(t), app); err != nil {
			t.Fatal(err)
		}
		var ds []store.AppDistribution
		for j, tg := range ts {
			ds = append(ds, store.AppDistribution{ID: app.ID + "-" + string(rune('a'+j)), AppID: app.ID, Target: tg.Kind, TargetID: tg.Value, CreatedAt: created})
		}
		if err := s.SetAppDistributions(ctx(t), app.ID, ds); err != nil {
			t.Fatal(err)
		}
		p := store.Profile{ID: "p-" + name, Name: name, Identifier: "com.example." + name, Targets: ts, CreatedAt: created}
		if err := s.CreateProfile(ctx(t), p); err != nil {
			t.Fatal(err)
		}
	}
	allDists, err := s.AppDistributions(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	allProfiles, err := s.Profiles(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range reachAudiences {
		t.Run(fmt.Sprint(a), func(t *testing.T) {
			got, err := s.AppDistributionsFor(ctx(t), a)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range allDists {
				if distribution.Reaches([]distribution.Target{{Kind: d.Target, Value: d.TargetID}}, a) && !slices.ContainsFunc(got, func(g store.AppDistribution) bool { return reflect.DeepEqual(normDist(g), normDist(d)) }) {
					t.Errorf("AppDistributionsFor misses %+v", d)
				}
			}
			if len(got) == len(allDists) {
				t.Errorf("AppDistributionsFor returned every distribution")
			}
			profiles, err := s.ProfilesFor(ctx(t), a)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range allProfiles {
				i := slices.IndexFunc(profiles, func(g store.Profile) bool { return g.ID == p.ID })
				switch {
				case distribution.Reaches(p.Targets, a) && i < 0:
					t.Errorf("ProfilesFor misses %s", p.ID)
				case i >= 0 && !reflect.DeepEqual(profiles[i].Targets, p.Targets):
					t.Errorf("ProfilesFor returned %s with targets %v, want all of %v", p.ID, profiles[i].Targets, p.Targets)
				}
			}
			if !slices.IsSortedFunc(profiles, func(x, y store.Profile) int { return x.CreatedAt.Compare(y.CreatedAt) }) {
				t.Error("ProfilesFor not by creation")
			}
		})
	}
}

func normDist(d store.AppDistribution) store.AppDistribution {
	d.CreatedAt = utc(d.CreatedAt)
	return d
}
