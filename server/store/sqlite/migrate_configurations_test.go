package sqlite

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/mobileatwork/mobileatwork/protocol/schedule"
	"github.com/mobileatwork/mobileatwork/server/distribution"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// TestUpgradeFromRelease180 opens a database made by release 1.80 (one
// global configuration, three assignments of one script to all, a device
// group and a user, two results) and checks that the upgrade changes
// nothing a device sees: the configuration becomes the default distributed
// to all, each assignment a script configuration with the same id, version
// and target.
func TestUpgradeFromRelease180(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("testdata", "release-1.80.db"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "tenant.db")
	if err := os.WriteFile(path, src, 0o600); err != nil {
		t.Fatal(err)
	}
	s := openTemp(t, path)
	if v := schemaVersion(t, s); v != len(migrations) {
		t.Fatalf("user_version = %d, want %d", v, len(migrations))
	}
	ctx := t.Context()
	def, err := s.Configuration(ctx, store.DefaultConfigID)
	if err != nil {
		t.Fatal(err)
	}
	if def.Name != "default" || def.Priority != 1 || distribution.String(def.Targets) != "all" ||
		def.Settings["max_execution_seconds"] != "30" || def.Settings["checkin_interval_minutes"] != "5" {
		t.Fatalf("default after upgrade = %+v; want the old settings, distributed to all", def)
	}
	all, err := s.Configurations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]store.Configuration{}
	for _, c := range all {
		byID[c.ID] = c
	}
	want := []struct {
		id, target string
		kind       string
		input      string
	}{
		{"asg_b8a799f322cc2cc3", "all", schedule.Once, ""},
		{"asg_127a3eec93f7bb2d", "group:lab", schedule.Daily, "lab"},
		{"asg_f08c645f9e301120", "user:ada@example.com", schedule.Once, ""},
	}
	names := []string{}
	for _, w := range want {
		c, ok := byID[w.id]
		if !ok {
			t.Fatalf("assignment %s did not become a configuration; have %v", w.id, configIDsOf(all))
		}
		if c.Kind != store.KindScript || c.Version != 1 || c.Script.ScriptID != "scr_ef8e8e3fdc54db6c" ||
			distribution.String(c.Targets) != w.target || c.Script.Schedule.Kind != w.kind || c.Script.Inputs["who"] != w.input {
			t.Errorf("%s = %+v; want script scr_ef8e8e3fdc54db6c to %s, %s, version 1", w.id, c, w.target, w.kind)
		}
		names = append(names, c.Name)
	}
	slices.Sort(names)
	if names = slices.Compact(names); len(names) != 3 {
		t.Errorf("migrated names are not unique: %v", names)
	}
	if len(all) != 4 {
		t.Errorf("%d configurations after upgrade, want 4: %v", len(all), configIDsOf(all))
	}
	devs, err := s.Devices(ctx)
	if err != nil || len(devs) != 1 || !slices.Equal(devs[0].Groups, []string{"lab"}) || devs[0].User != "ada@example.com" {
		t.Fatalf("devices after upgrade = %+v, %v", devs, err)
	}
	if _, err := s.User(ctx, "ada@example.com"); err != nil {
		t.Errorf("the token's user is not a user after upgrade: %v", err)
	}
	rs, err := s.Results(ctx, store.ResultFilter{ConfigID: "asg_b8a799f322cc2cc3"})
	if err != nil || len(rs) != 1 {
		t.Fatalf("results of the migrated configuration = %d, %v; want 1", len(rs), err)
	}
	sc, err := s.Script(ctx, "scr_ef8e8e3fdc54db6c")
	if err != nil || sc.Version != 1 || rs[0].ScriptSHA256 != sc.SHA256 {
		t.Fatalf("script %+v, result sha %q: the result should name the body that ran", sc, rs[0].ScriptSHA256)
	}
	if v, err := s.ScriptVersion(ctx, sc.ID, 1); err != nil || v.BlobSHA256 != sc.BlobSHA256 {
		t.Fatalf("script version 1 = %+v, %v", v, err)
	}
	toks, err := s.Tokens(ctx)
	if err != nil || len(toks) != 1 || toks[0].UsesLeft != 0 {
		t.Fatalf("tokens after upgrade = %+v, %v", toks, err)
	}
}

func configIDsOf(cs []store.Configuration) []string {
	var ids []string
	for _, c := range cs {
		ids = append(ids, c.ID)
	}
	return ids
}
