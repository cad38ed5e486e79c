package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/protocol/schedule"
	"github.com/mobileatwork/mobileatwork/server/distribution"
	"github.com/mobileatwork/mobileatwork/server/store"
)

func sampleScriptConfig(id, name, scriptID string, created time.Time, targets ...distribution.Target) store.Configuration {
	return store.Configuration{
		ID: id, Kind: store.KindScript, Name: name, Description: "Renames every Mac", Version: 3,
		Script: store.ScriptSettings{
			ScriptID: scriptID,
			Inputs:   map[string]string{"name": "mac-{$deviceSerialNumber}"},
			Schedule: schedule.Spec{Kind: schedule.Weekly, At: "09:30", Days: []string{"mon", "fri"}, TZ: "local", Start: "2026-03-16", End: "2026-06-30"},
			RunAs:    protocol.RunAsConsoleUser,
			Retries:  3,
		},
		Targets:   targets,
		CreatedAt: created, UpdatedAt: created.Add(time.Minute),
	}
}

func sampleMAWConfig(id, name string, priority int, created time.Time, targets ...distribution.Target) store.Configuration {
	return store.Configuration{
		ID: id, Kind: store.KindMobileAtWork, Name: name, Version: 1, Priority: priority,
		Settings: map[string]string{"max_execution_seconds": "30"}, Targets: targets,
		CreatedAt: created, UpdatedAt: created,
	}
}

func normConfig(c store.Configuration) store.Configuration {
	c.CreatedAt, c.UpdatedAt, c.ExpiresAt = utc(c.CreatedAt), utc(c.UpdatedAt), utc(c.ExpiresAt)
	if len(c.Settings) == 0 {
		c.Settings = nil
	}
	if len(c.Script.Inputs) == 0 {
		c.Script.Inputs = nil
	}
	if len(c.Targets) == 0 {
		c.Targets = nil
	}
	if len(c.Script.Schedule.Days) == 0 {
		c.Script.Schedule.Days = nil
	}
	return c
}

func checkConfig(t *testing.T, got, want store.Configuration) {
	t.Helper()
	if g, w := normConfig(got), normConfig(want); !reflect.DeepEqual(g, w) {
		t.Errorf("configuration =\n %+v\nwant\n %+v", g, w)
	}
}

func mustCreateConfig(t *testing.T, s store.AllStorage, c store.Configuration) {
	t.Helper()
	if err := s.CreateConfiguration(ctx(t), c); err != nil {
		t.Fatalf("CreateConfiguration %s: %v", c.ID, err)
	}
}

func configIDs(cs []store.Configuration) []string {
	var ids []string
	for _, c := range cs {
		ids = append(ids, c.ID)
	}
	return ids
}

func testConfigurations(t *testing.T, newStore NewStore) {
	t.Run("a new store has the default, distributed to no one", func(t *testing.T) {
		s := newStore(t)
		d, err := s.Configuration(ctx(t), store.DefaultConfigID)
		if err != nil {
			t.Fatal(err)
		}
		if d.Kind != store.KindMobileAtWork || d.Name != "default" || d.Priority != 1 || len(d.Targets) != 0 || len(d.Settings) != 0 {
			t.Fatalf("default = %+v; want a Mobile@Work configuration named default, priority 1, no targets, documented defaults", d)
		}
		all, err := s.Configurations(ctx(t))
		if err != nil || len(all) != 1 {
			t.Fatalf("Configurations = %v, %v; want the default alone", configIDs(all), err)
		}
	})

	t.Run("round trip", func(t *testing.T) {
		s := newStore(t)
		mustCreateScript(t, s, sampleScript("s1", at(0)))
		c := sampleScriptConfig("c1", "Rename", "s1", at(time.Hour),
			distribution.Target{Kind: distribution.DeviceGroup, Value: "lab"}, distribution.Target{Kind: distribution.User, Value: "ada@example.com"})
		mustCreateConfig(t, s, c)
		got, err := s.Configuration(ctx(t), "c1")
		if err != nil {
			t.Fatal(err)
		}
		checkConfig(t, got, c)
		byName, err := s.ConfigurationByName(ctx(t), "rENAME")
		if err != nil {
			t.Fatalf("ConfigurationByName ignores case: %v", err)
		}
		checkConfig(t, byName, c)
		m := sampleMAWConfig("m1", "Lab settings", 2, at(2*time.Hour), distribution.Target{Kind: distribution.All})
		mustCreateConfig(t, s, m)
		got, err = s.Configuration(ctx(t), "m1")
		if err != nil {
			t.Fatal(err)
		}
		checkConfig(t, got, m)
	})

	t.Run("refusals change nothing", func(t *testing.T) {
		s := newStore(t)
		mustCreateScript(t, s, sampleScript("s1", at(0)))
		c := sampleScriptConfig("c1", "Rename", "s1", at(0))
		mustCreateConfig(t, s, c)
		tests := []struct {
			name string
			c    store.Configuration
			want error
		}{
			{"same id", sampleScriptConfig("c1", "Other", "s1", at(0)), store.ErrExists},
			{"same name in another case", sampleScriptConfig("c2", "RENAME", "s1", at(0)), store.ErrExists},
			{"name of the default", sampleMAWConfig("m2", "Default", 2, at(0)), store.ErrExists},
			{"unknown script", sampleScriptConfig("c3", "Ghost", "s9", at(0)), store.ErrNotFound},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if err := s.CreateConfiguration(ctx(t), tt.c); !errors.Is(err, tt.want) {
					t.Fatalf("CreateConfiguration = %v, want %v", err, tt.want)
				}
			})
		}
		all, _ := s.Configurations(ctx(t))
		if want := []string{store.DefaultConfigID, "c1"}; !slices.Equal(configIDs(all), want) {
			t.Fatalf("after refusals: %v, want %v", configIDs(all), want)
		}
		other := sampleScriptConfig("c4", "Other", "s1", at(0))
		mustCreateConfig(t, s, other)
		other.Name = "rename"
		if err := s.UpdateConfiguration(ctx(t), other); !errors.Is(err, store.ErrExists) {
			t.Fatalf("UpdateConfiguration to a taken name = %v, want ErrExists", err)
		}
		ghost := sampleScriptConfig("c9", "Ghost", "s1", at(0))
		if err := s.UpdateConfiguration(ctx(t), ghost); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("UpdateConfiguration of an unknown id = %v, want ErrNotFound", err)
		}
		if err := s.DeleteConfiguration(ctx(t), "c9"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("DeleteConfiguration of an unknown id = %v, want ErrNotFound", err)
		}
		if _, err := s.Configuration(ctx(t), "c9"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Configuration of an unknown id = %v, want ErrNotFound", err)
		}
		if _, err := s.ConfigurationByName(ctx(t), "ghost"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("ConfigurationByName of an unknown name = %v, want ErrNotFound", err)
		}
		checkConfig(t, mustConfigByID(t, s, "c4"), sampleScriptConfig("c4", "Other", "s1", at(0)))
	})

	t.Run("update replaces fields and targets", func(t *testing.T) {
		s := newStore(t)
		mustCreateScript(t, s, sampleScript("s1", at(0)))
		mustCreateScript(t, s, sampleScript("s2", at(0)))
		c := sampleScriptConfig("c1", "Rename", "s1", at(0), distribution.Target{Kind: distribution.All})
		mustCreateConfig(t, s, c)
		c.Name, c.Description, c.Version = "Rename v2", "", 4
		c.Script.ScriptID, c.Script.Inputs = "s2", nil
		c.Script.Schedule = schedule.Spec{Kind: schedule.Once}
		c.Targets = []distribution.Target{{Kind: distribution.Device, Value: "d1"}}
		c.UpdatedAt = at(time.Hour)
		if err := s.UpdateConfiguration(ctx(t), c); err != nil {
			t.Fatal(err)
		}
		checkConfig(t, mustConfigByID(t, s, "c1"), c)
		c.Targets = nil // withdrawn: distributed to no one
		if err := s.UpdateConfiguration(ctx(t), c); err != nil {
			t.Fatal(err)
		}
		checkConfig(t, mustConfigByID(t, s, "c1"), c)
	})

	t.Run("order, priorities and delete", func(t *testing.T) {
		s := newStore(t)
		mustCreateScript(t, s, sampleScript("s1", at(0)))
		mustCreateConfig(t, s, sampleScriptConfig("c1", "Script one", "s1", at(time.Hour)))
		mustCreateConfig(t, s, sampleMAWConfig("m3", "Third", 3, at(2*time.Hour)))
		mustCreateConfig(t, s, sampleMAWConfig("m2", "Second", 2, at(3*time.Hour)))
		mustCreateConfig(t, s, sampleScriptConfig("c0", "Script zero", "s1", at(0)))
		all, err := s.Configurations(ctx(t))
		if want := []string{store.DefaultConfigID, "m2", "m3", "c0", "c1"}; err != nil || !slices.Equal(configIDs(all), want) {
			t.Fatalf("Configurations = %v, %v; want %v (Mobile@Work by priority, then scripts oldest first)", configIDs(all), err, want)
		}
		if err := s.SetPriorities(ctx(t), []string{"m3", store.DefaultConfigID, "m2"}, at(4*time.Hour)); err != nil {
			t.Fatal(err)
		}
		all, _ = s.Configurations(ctx(t))
		if want := []string{"m3", store.DefaultConfigID, "m2", "c0", "c1"}; !slices.Equal(configIDs(all), want) {
			t.Fatalf("after SetPriorities: %v, want %v", configIDs(all), want)
		}
		if got := mustConfigByID(t, s, "m3"); got.Priority != 1 || !got.UpdatedAt.Equal(at(4*time.Hour)) {
			t.Fatalf("m3 = priority %d updated %v; want 1 at the time of the change", got.Priority, got.UpdatedAt)
		}
		if err := s.SetPriorities(ctx(t), []string{"m3", "nope"}, at(5*time.Hour)); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("SetPriorities with an unknown id = %v, want ErrNotFound", err)
		}
		if got := mustConfigByID(t, s, "m3"); !got.UpdatedAt.Equal(at(4 * time.Hour)) {
			t.Fatal("a refused SetPriorities changed a configuration")
		}
		if err := s.DeleteConfiguration(ctx(t), "m3"); err != nil {
			t.Fatal(err)
		}
		all, _ = s.Configurations(ctx(t))
		if want := []string{store.DefaultConfigID, "m2", "c0", "c1"}; !slices.Equal(configIDs(all), want) {
			t.Fatalf("after delete: %v, want %v", configIDs(all), want)
		}
	})
}

func mustConfigByID(t *testing.T, s store.AllStorage, id string) store.Configuration {
	t.Helper()
	c, err := s.Configuration(ctx(t), id)
	if err != nil {
		t.Fatalf("Configuration %s: %v", id, err)
	}
	return c
}

// testReach checks that the indexed lookup never misses a configuration the
// resolver says reaches the audience, and returns none that no target names.
// reachDistributions is one distribution of each kind, and mixes, by name.
func reachDistributions() map[string][]distribution.Target {
	T := func(kind, value string) distribution.Target { return distribution.Target{Kind: kind, Value: value} }
	return map[string][]distribution.Target{
		"none":      nil,
		"all":       {T(distribution.All, "")},
		"dev1":      {T(distribution.Device, "d1")},
		"lab":       {T(distribution.DeviceGroup, "lab")},
		"ada":       {T(distribution.User, "ada@example.com")},
		"eng":       {T(distribution.UserGroup, "eng")},
		"mix":       {T(distribution.Device, "d9"), T(distribution.UserGroup, "sales"), T(distribution.DeviceGroup, "design")},
		"bob-or-d2": {T(distribution.User, "bob@example.com"), T(distribution.Device, "d2")},
	}
}

// reachAudiences are devices some of reachDistributions reach.
var reachAudiences = []distribution.Audience{
	{DeviceID: "d1", DeviceGroups: []string{"lab"}, User: "ada@example.com", UserGroups: []string{"eng"}},
	{DeviceID: "d2"},
	{DeviceID: "d3", DeviceGroups: []string{"design", "lab"}, User: "bob@example.com", UserGroups: []string{"sales"}},
	{DeviceID: "d4", User: "carol@example.com"},
}

func testReach(t *testing.T, newStore NewStore) {
	s := newStore(t)
	mustCreateScript(t, s, sampleScript("s1", at(0)))
	var cs []store.Configuration
	i := 0
	for name, ts := range reachDistributions() {
		c := sampleScriptConfig("c-"+name, "Config "+name, "s1", at(time.Duration(i)*time.Minute), ts...)
		mustCreateConfig(t, s, c)
		cs = append(cs, c)
		i++
	}
	for _, a := range reachAudiences {
		t.Run(fmt.Sprint(a), func(t *testing.T) {
			got, err := s.ConfigurationsFor(ctx(t), a)
			if err != nil {
				t.Fatal(err)
			}
			ids := configIDs(got)
			for _, c := range cs {
				if distribution.Reaches(c.Targets, a) && !slices.Contains(ids, c.ID) {
					t.Errorf("ConfigurationsFor misses %s, which reaches %v", c.ID, a)
				}
			}
			for _, g := range got {
				if len(g.Targets) == 0 {
					t.Errorf("ConfigurationsFor returned %s, distributed to no one", g.ID)
				}
				if want := mustConfigByID(t, s, g.ID); !reflect.DeepEqual(normConfig(g), normConfig(want)) {
					t.Errorf("ConfigurationsFor returned %s without all its fields: %+v", g.ID, g)
				}
			}
		})
	}
}

func testScriptVersions(t *testing.T, newStore NewStore) {
	s := newStore(t)
	sc := sampleScript("s1", at(0))
	mustCreateScript(t, s, sc)
	mustCreateScript(t, s, sampleScript("s2", at(0)))
	mustCreateConfig(t, s, sampleScriptConfig("c1", "Uses s1", "s1", at(0)))
	mustCreateConfig(t, s, sampleScriptConfig("c2", "Uses s2", "s2", at(0)))
	v1, err := s.ScriptVersion(ctx(t), "s1", 1)
	if err != nil || v1.SHA256 != sc.SHA256 || v1.BlobSHA256 != sc.BlobSHA256 || !slices.Equal(v1.BlobKey, sc.BlobKey) {
		t.Fatalf("version 1 = %+v, %v", v1, err)
	}
	// A rename keeps the version and the configurations' versions.
	sc.Version, sc.Name, sc.Description, sc.UpdatedAt = 1, "Renamed", "new words", at(time.Hour)
	if err := s.UpdateScript(ctx(t), sc); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Script(ctx(t), "s1")
	if got.Name != "Renamed" || got.Version != 1 || mustConfigByID(t, s, "c1").Version != 3 {
		t.Fatalf("after a rename: script %+v, c1 version %d", got, mustConfigByID(t, s, "c1").Version)
	}
	// A new body is version 2 and bumps the configurations that use it.
	sc.Version, sc.SHA256, sc.BlobSHA256, sc.BlobKey, sc.Size, sc.UpdatedAt = 2, "aa", "bb", []byte{9, 9}, 7, at(2*time.Hour)
	if err := s.UpdateScript(ctx(t), sc); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Script(ctx(t), "s1")
	if got.Version != 2 || got.SHA256 != "aa" || got.Size != 7 || !got.UpdatedAt.Equal(at(2*time.Hour)) {
		t.Fatalf("after a new body: %+v", got)
	}
	if c1, c2 := mustConfigByID(t, s, "c1"), mustConfigByID(t, s, "c2"); c1.Version != 4 || !c1.UpdatedAt.Equal(at(2*time.Hour)) || c2.Version != 3 {
		t.Fatalf("configuration versions after a new body: c1 %d (%v), c2 %d; want 4 and 3", c1.Version, c1.UpdatedAt, c2.Version)
	}
	if v1again, err := s.ScriptVersion(ctx(t), "s1", 1); err != nil || v1again.SHA256 != v1.SHA256 {
		t.Fatalf("version 1 after version 2: %+v, %v", v1again, err)
	}
	if v2, err := s.ScriptVersion(ctx(t), "s1", 2); err != nil || v2.SHA256 != "aa" || !slices.Equal(v2.BlobKey, []byte{9, 9}) {
		t.Fatalf("version 2 = %+v, %v", v2, err)
	}
	if _, err := s.ScriptVersion(ctx(t), "s1", 3); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown version = %v, want ErrNotFound", err)
	}
	sc.Version = 5
	if err := s.UpdateScript(ctx(t), sc); err == nil {
		t.Fatal("UpdateScript skipping versions was accepted")
	}
	if err := s.UpdateScript(ctx(t), sampleScript("s9", at(0))); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("UpdateScript of an unknown script = %v, want ErrNotFound", err)
	}
	// Delete is refused while a configuration uses the script.
	if err := s.DeleteScript(ctx(t), "s1"); !errors.Is(err, store.ErrInUse) {
		t.Fatalf("DeleteScript in use = %v, want ErrInUse", err)
	}
	if err := s.DeleteConfiguration(ctx(t), "c1"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteScript(ctx(t), "s1"); err != nil {
		t.Fatalf("DeleteScript once unused: %v", err)
	}
	if _, err := s.Script(ctx(t), "s1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted script still there: %v", err)
	}
	if _, err := s.ScriptVersion(ctx(t), "s1", 1); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted script's versions still there: %v", err)
	}
	if err := s.DeleteScript(ctx(t), "s1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second DeleteScript = %v, want ErrNotFound", err)
	}
}

func testStatuses(t *testing.T, newStore NewStore) {
	s := newStore(t)
	mustCreateDevice(t, s, sampleDevice("d1", at(0)))
	mustCreateDevice(t, s, sampleDevice("d2", at(0)))
	mustCreateScript(t, s, sampleScript("s1", at(0)))
	mustCreateConfig(t, s, sampleScriptConfig("c1", "One", "s1", at(0)))
	mustCreateConfig(t, s, sampleScriptConfig("c2", "Two", "s1", at(0)))
	sts := []store.DeviceStatus{
		{ConfigID: "c1", DeviceID: "d1", Version: 3, Status: store.StatusScheduled, Detail: "weekly", NextRun: at(time.Hour), UpdatedAt: at(0)},
		{ConfigID: "c2", DeviceID: "d1", Version: 3, Status: store.StatusError, Detail: "no Mobile@Work configuration", UpdatedAt: at(0)},
		{ConfigID: "c1", DeviceID: "d2", Version: 3, Status: store.StatusPending, UpdatedAt: at(0)},
	}
	if err := s.PutStatuses(ctx(t), sts); err != nil {
		t.Fatal(err)
	}
	norm := func(in []store.DeviceStatus) []store.DeviceStatus {
		out := slices.Clone(in)
		for i := range out {
			out[i].UpdatedAt = utc(out[i].UpdatedAt)
			if !out[i].NextRun.IsZero() {
				out[i].NextRun = utc(out[i].NextRun)
			}
		}
		return out
	}
	got, err := s.DeviceStatuses(ctx(t), "d1")
	if err != nil || !reflect.DeepEqual(norm(got), norm(sts[:2])) {
		t.Fatalf("DeviceStatuses(d1) = %+v, %v", got, err)
	}
	got, err = s.ConfigStatuses(ctx(t), "c1")
	if err != nil || !reflect.DeepEqual(norm(got), norm([]store.DeviceStatus{sts[0], sts[2]})) {
		t.Fatalf("ConfigStatuses(c1) = %+v, %v", got, err)
	}
	// Replace one.
	up := store.DeviceStatus{ConfigID: "c1", DeviceID: "d1", Version: 3, Status: protocol.StatusSucceeded, Detail: "exit 0", UpdatedAt: at(time.Hour)}
	if err := s.PutStatuses(ctx(t), []store.DeviceStatus{up}); err != nil {
		t.Fatal(err)
	}
	got, _ = s.DeviceStatuses(ctx(t), "d1")
	if !reflect.DeepEqual(norm(got), norm([]store.DeviceStatus{up, sts[1]})) {
		t.Fatalf("after replace: %+v", got)
	}
	// Unknown device or configuration: nothing stored.
	bad := []store.DeviceStatus{{ConfigID: "c2", DeviceID: "d2", Status: store.StatusPending, UpdatedAt: at(0)}, {ConfigID: "c1", DeviceID: "d9", Status: store.StatusPending, UpdatedAt: at(0)}}
	if err := s.PutStatuses(ctx(t), bad); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("PutStatuses for an unknown device = %v, want ErrNotFound", err)
	}
	if got, _ := s.DeviceStatuses(ctx(t), "d2"); len(got) != 1 {
		t.Fatalf("a refused PutStatuses stored part of its batch: %+v", got)
	}
	if err := s.DeleteStatuses(ctx(t), "d1", []string{"c2"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.DeviceStatuses(ctx(t), "d1"); len(got) != 1 || got[0].ConfigID != "c1" {
		t.Fatalf("after DeleteStatuses: %+v", got)
	}
	// Deleting a configuration deletes its statuses.
	if err := s.DeleteConfiguration(ctx(t), "c1"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.ConfigStatuses(ctx(t), "c1"); len(got) != 0 {
		t.Fatalf("statuses of a deleted configuration: %+v", got)
	}
}

func testUsers(t *testing.T, newStore NewStore) {
	s := newStore(t)
	for _, u := range []store.User{{Email: "Bob@Example.com", CreatedAt: at(0)}, {Email: "ada@example.com", Name: "Ada", CreatedAt: at(time.Minute)}} {
		if err := s.PutUser(ctx(t), u); err != nil {
			t.Fatal(err)
		}
	}
	// Known user: an empty name keeps the stored one, a name replaces it.
	if err := s.PutUser(ctx(t), store.User{Email: "ada@example.com", CreatedAt: at(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutUser(ctx(t), store.User{Email: "bob@example.com", Name: "Bob", CreatedAt: at(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	users, err := s.Users(ctx(t))
	if err != nil || len(users) != 2 || users[0].Email != "ada@example.com" || users[0].Name != "Ada" ||
		users[1].Email != "bob@example.com" || users[1].Name != "Bob" || !users[1].CreatedAt.Equal(at(0)) {
		t.Fatalf("Users = %+v, %v", users, err)
	}
	if _, err := s.User(ctx(t), "BOB@example.com"); err != nil {
		t.Fatalf("User ignores case: %v", err)
	}
	if _, err := s.User(ctx(t), "carol@example.com"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown User = %v, want ErrNotFound", err)
	}
	g := store.UserGroup{Name: "eng", Description: "Engineering", Members: []string{"bob@example.com", "ada@example.com"}, CreatedAt: at(0)}
	if err := s.CreateUserGroup(ctx(t), g); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateUserGroup(ctx(t), store.UserGroup{Name: "eng", CreatedAt: at(0)}); !errors.Is(err, store.ErrExists) {
		t.Fatalf("duplicate group = %v, want ErrExists", err)
	}
	if err := s.CreateUserGroup(ctx(t), store.UserGroup{Name: "ops", Members: []string{"carol@example.com"}, CreatedAt: at(0)}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("group with an unknown member = %v, want ErrNotFound", err)
	}
	if _, err := s.UserGroup(ctx(t), "ops"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a refused group was stored: %v", err)
	}
	got, err := s.UserGroup(ctx(t), "eng")
	if err != nil || !slices.Equal(got.Members, []string{"ada@example.com", "bob@example.com"}) || got.Description != "Engineering" {
		t.Fatalf("UserGroup = %+v, %v", got, err)
	}
	if gs, err := s.UserGroupsOf(ctx(t), "ADA@example.com"); err != nil || !slices.Equal(gs, []string{"eng"}) {
		t.Fatalf("UserGroupsOf(ada) = %v, %v", gs, err)
	}
	if err := s.SetUserGroupMembers(ctx(t), "eng", []string{"bob@example.com", "carol@example.com"}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("SetUserGroupMembers with an unknown member = %v, want ErrNotFound", err)
	}
	if got, _ := s.UserGroup(ctx(t), "eng"); len(got.Members) != 2 {
		t.Fatalf("a refused SetUserGroupMembers changed the members: %v", got.Members)
	}
	if err := s.SetUserGroupMembers(ctx(t), "eng", []string{"bob@example.com"}); err != nil {
		t.Fatal(err)
	}
	if gs, _ := s.UserGroupsOf(ctx(t), "ada@example.com"); len(gs) != 0 {
		t.Fatalf("ada still in %v after removal", gs)
	}
	if err := s.SetUserGroupMembers(ctx(t), "nope", nil); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("SetUserGroupMembers of an unknown group = %v, want ErrNotFound", err)
	}
	all, err := s.UserGroups(ctx(t))
	if err != nil || len(all) != 1 || all[0].Name != "eng" || !slices.Equal(all[0].Members, []string{"bob@example.com"}) {
		t.Fatalf("UserGroups = %+v, %v", all, err)
	}
}
