package server

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/protocol/schedule"
	"github.com/mobileatwork/mobileatwork/server/distribution"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// newTenant is a real tenant (keys, database, blobs) in a temp dir.
func newTenant(t *testing.T) *Server {
	t.Helper()
	s, err := Init(filepath.Join(t.TempDir(), "data"), "Test", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// fleet enrolls devices (store-level), users and groups for reach tests:
// d1 ada in lab and eng; d2 bob in design; d3 no user, in lab; d4 left.
func fleet(t *testing.T, s *Server) {
	t.Helper()
	ctx := t.Context()
	for _, u := range []string{"ada@example.com", "bob@example.com", "carol@example.com"} {
		if _, err := s.AddUser(ctx, u, ""); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.AddUserGroup(ctx, "eng", "", []string{"ada@example.com"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddUserGroup(ctx, "empty", "", nil); err != nil {
		t.Fatal(err)
	}
	for i, d := range []store.Device{
		{ID: "d1", User: "ada@example.com", Groups: []string{"lab"}},
		{ID: "d2", User: "bob@example.com", Groups: []string{"design"}},
		{ID: "d3", Groups: []string{"lab"}},
		{ID: "d4", User: "ada@example.com", Left: true},
	} {
		d.EnrolledAt = t0.Add(time.Duration(i) * time.Minute)
		if err := s.Store.CreateDevice(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
}

func addScript(t *testing.T, s *Server, name, body string, inputs ...store.InputDecl) store.Script {
	t.Helper()
	sc, err := s.AddScript(t.Context(), name, "", []byte(body), inputs)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func ids(ds []store.Device) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.ID)
	}
	return out
}

func TestDistributeReach(t *testing.T) {
	s := newTenant(t)
	fleet(t, s)
	ctx := t.Context()
	tests := []struct {
		to   []string
		want []string
	}{
		{[]string{"all"}, []string{"d1", "d2", "d3"}},
		{[]string{"none"}, nil},
		{[]string{"device:d2"}, []string{"d2"}},
		{[]string{"group:lab"}, []string{"d1", "d3"}},
		{[]string{"user:ada@example.com"}, []string{"d1"}},
		{[]string{"usergroup:eng"}, []string{"d1"}},
		{[]string{"usergroup:empty"}, nil},
		{[]string{"user:carol@example.com"}, nil},
		{[]string{"group:design,device:d3"}, []string{"d2", "d3"}},
		{[]string{"usergroup:eng", "group:design"}, []string{"d1", "d2"}},
		{[]string{"user:BOB@example.com", "group:lab"}, []string{"d1", "d2", "d3"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.to, " "), func(t *testing.T) {
			r, err := s.Distribute(ctx, "default", tt.to, true)
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(r.Devices); !slices.Equal(got, tt.want) {
				t.Fatalf("dry run reaches %v, want %v", got, tt.want)
			}
			// The dry run changed nothing.
			if c, _ := s.Configuration(ctx, "default"); len(c.Targets) != 0 {
				t.Fatalf("dry run stored targets %v", c.Targets)
			}
			// The check-in decides the same for each device.
			for _, d := range []string{"d1", "d2", "d3"} {
				dev, _ := s.Store.Device(ctx, d)
				aud, err := s.audience(ctx, dev)
				if err != nil {
					t.Fatal(err)
				}
				ts, _ := distribution.Parse(tt.to)
				if got := distribution.Reaches(ts, aud); got != slices.Contains(tt.want, d) {
					t.Fatalf("check-in audience of %s: reaches = %v, dry run says %v", d, got, slices.Contains(tt.want, d))
				}
			}
		})
	}
}

func TestPriorities(t *testing.T) {
	s := newTenant(t)
	fleet(t, s)
	ctx := t.Context()
	lab, err := s.AddMobileAtWork(ctx, "Lab", "Lab Macs", []string{"max_execution_seconds=10"})
	if err != nil {
		t.Fatal(err)
	}
	design, err := s.AddMobileAtWork(ctx, "Design", "", []string{"max_execution_seconds=20"})
	if err != nil {
		t.Fatal(err)
	}
	if lab.Priority != 2 || design.Priority != 3 {
		t.Fatalf("priorities %d %d, want 2 3 (new ones rank last)", lab.Priority, design.Priority)
	}
	for _, dist := range [][2]string{{"default", "all"}, {"Lab", "group:lab"}, {"Design", "group:design"}} {
		if _, err := s.Distribute(ctx, dist[0], []string{dist[1]}, false); err != nil {
			t.Fatal(err)
		}
	}
	inEffect := func(dev string) string {
		d, _ := s.Store.Device(ctx, dev)
		dc, err := s.configsFor(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		if dc.inEffect == nil {
			return ""
		}
		return dc.inEffect.Name + "/" + dc.settings()["max_execution_seconds"]
	}
	if got := inEffect("d1"); got != "default/60" {
		t.Fatalf("d1: %s, want default (priority 1) with 60 s", got)
	}
	if _, err := s.SetPriority(ctx, "Lab", 1); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetPriority(ctx, "design", 2); err != nil {
		t.Fatal(err)
	}
	if got, want := []string{inEffect("d1"), inEffect("d2"), inEffect("d3")}, []string{"Lab/10", "Design/20", "Lab/10"}; !slices.Equal(got, want) {
		t.Fatalf("in effect %v, want %v", got, want)
	}
	all, _ := s.Configurations(ctx, store.KindMobileAtWork)
	var order []string
	for _, c := range all {
		order = append(order, c.Name)
	}
	if !slices.Equal(order, []string{"Lab", "Design", "default"}) {
		t.Fatalf("order %v", order)
	}
	// Deleting closes the gap.
	if _, err := s.DeleteConfiguration(ctx, "Lab"); err != nil {
		t.Fatal(err)
	}
	all, _ = s.Configurations(ctx, store.KindMobileAtWork)
	if len(all) != 2 || all[0].Name != "Design" || all[0].Priority != 1 || all[1].Priority != 2 {
		t.Fatalf("after delete: %+v", all)
	}
}

func TestEditVersions(t *testing.T) {
	s := newTenant(t)
	ctx := t.Context()
	sc := addScript(t, s, "hello", "echo hi\n", store.InputDecl{Label: "Who", Name: "who", Default: "world"})
	c, err := s.AddScriptConfig(ctx, "Say hello", "", ScriptRequest{Script: "hello"})
	if err != nil {
		t.Fatal(err)
	}
	version := func() int {
		got, err := s.Configuration(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.Version
	}
	name, desc := "Greet", "Says hello"
	steps := []struct {
		what string
		do   func() error
		want int
	}{
		{"rename keeps the version", func() error {
			_, err := s.UpdateConfiguration(ctx, c.ID, ConfigUpdate{Name: &name, Description: &desc})
			return err
		}, 1},
		{"an input bumps it", func() error {
			_, err := s.UpdateConfiguration(ctx, "greet", ConfigUpdate{Script: &ScriptRequest{Inputs: []string{"who=lab"}}})
			return err
		}, 2},
		{"the same input again does not", func() error {
			_, err := s.UpdateConfiguration(ctx, "greet", ConfigUpdate{Script: &ScriptRequest{Inputs: []string{"who=lab"}}})
			return err
		}, 2},
		{"a schedule bumps it", func() error {
			_, err := s.UpdateConfiguration(ctx, "greet", ConfigUpdate{Script: &ScriptRequest{Schedule: &schedule.Spec{Kind: schedule.Daily, At: "09:00"}}})
			return err
		}, 3},
		{"a new script body bumps it", func() error {
			_, err := s.UpdateScript(ctx, "hello", ScriptUpdate{Body: []byte("echo hello\n")})
			return err
		}, 4},
		{"the same body does not", func() error {
			_, err := s.UpdateScript(ctx, sc.ID, ScriptUpdate{Body: []byte("echo hello\n")})
			return err
		}, 4},
		{"a distribution does not", func() error { _, err := s.Distribute(ctx, "greet", []string{"all"}, false); return err }, 4},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.what, err)
		}
		if got := version(); got != st.want {
			t.Fatalf("%s: version %d, want %d", st.what, got, st.want)
		}
	}
	got, _ := s.Store.Script(ctx, sc.ID)
	if got.Version != 2 || got.SHA256 == sc.SHA256 {
		t.Fatalf("script after a new body: %+v", got)
	}
	if _, err := s.Files.Get(got.BlobSHA256, 1<<20); err != nil {
		t.Fatalf("version 2 blob: %v", err)
	}
	if _, err := s.Files.Get(sc.BlobSHA256, 1<<20); err != nil {
		t.Fatalf("version 1 blob must stay for devices told about it: %v", err)
	}
}

// TestRefusals checks each bad input: one ErrInvalid, nothing changed.
func TestRefusals(t *testing.T) {
	s := newTenant(t)
	fleet(t, s)
	ctx := t.Context()
	addScript(t, s, "hello", "echo hi\n", store.InputDecl{Label: "Who", Name: "who"})
	addScript(t, s, "unused", "true\n")
	if _, err := s.AddScriptConfig(ctx, "Greet", "", ScriptRequest{Script: "hello"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddMobileAtWork(ctx, "Lab", "", nil); err != nil {
		t.Fatal(err)
	}
	snapshot := func() string {
		cs, _ := s.Store.Configurations(ctx)
		scs, _ := s.Store.Scripts(ctx)
		var b strings.Builder
		for _, c := range cs {
			b.WriteString(c.ID + c.Name + c.Description + distribution.String(c.Targets) + c.Script.ScriptID + c.Script.Schedule.String())
			b.WriteString(strings.Repeat("v", c.Version) + strings.Repeat("p", c.Priority))
			for k, v := range c.Settings {
				b.WriteString(k + v)
			}
			for k, v := range c.Script.Inputs {
				b.WriteString(k + v)
			}
		}
		for _, sc := range scs {
			b.WriteString(sc.ID + sc.Name + sc.SHA256)
		}
		return b.String()
	}
	before := snapshot()
	str := func(v string) *string { return &v }
	tests := []struct {
		name string
		call func() error
		want string // part of the message
	}{
		{"unknown REF", func() error { _, err := s.UpdateConfiguration(ctx, "nope", ConfigUpdate{Name: str("x")}); return err }, `no configuration "nope"`},
		{"duplicate name", func() error { _, err := s.AddMobileAtWork(ctx, "LAB", "", nil); return err }, "exists already"},
		{"rename onto another", func() error {
			_, err := s.UpdateConfiguration(ctx, "Greet", ConfigUpdate{Name: str("default")})
			return err
		}, "exists already"},
		{"name like an id", func() error { _, err := s.AddMobileAtWork(ctx, "cfg_0123456789abcdef", "", nil); return err }, "looks like an id"},
		{"empty name", func() error { _, err := s.AddMobileAtWork(ctx, " ", "", nil); return err }, "--name is required"},
		{"unknown target", func() error { _, err := s.Distribute(ctx, "Greet", []string{"device:d9"}, false); return err }, "known: d1, d2, d3, d4"},
		{"unknown user", func() error {
			_, err := s.Distribute(ctx, "Greet", []string{"user:zed@example.com"}, false)
			return err
		}, "unknown user"},
		{"unknown user group", func() error { _, err := s.Distribute(ctx, "Greet", []string{"usergroup:ops"}, false); return err }, "known: empty, eng"},
		{"unknown device group", func() error { _, err := s.Distribute(ctx, "Greet", []string{"group:sales"}, false); return err }, "known: design, lab"},
		{"none mixed with others", func() error { _, err := s.Distribute(ctx, "Greet", []string{"none", "group:lab"}, false); return err }, "cannot be mixed"},
		{"one bad target spoils all", func() error { _, err := s.Distribute(ctx, "Greet", []string{"group:lab,device:d9"}, false); return err }, "unknown device"},
		{"priority out of range", func() error { _, err := s.SetPriority(ctx, "Lab", 3); return err }, "out of range"},
		{"priority zero", func() error { _, err := s.SetPriority(ctx, "Lab", 0); return err }, "out of range"},
		{"priority of a script", func() error { _, err := s.SetPriority(ctx, "Greet", 1); return err }, "only Mobile@Work"},
		{"delete default", func() error { _, err := s.DeleteConfiguration(ctx, "default"); return err }, "cannot be deleted"},
		{"delete a script in use", func() error { _, err := s.DeleteScript(ctx, "hello"); return err }, `used by "Greet"`},
		{"invalid key", func() error {
			_, err := s.UpdateConfiguration(ctx, "default", ConfigUpdate{Settings: []string{"colour=blue"}})
			return err
		}, "unknown key"},
		{"invalid value", func() error {
			_, err := s.UpdateConfiguration(ctx, "default", ConfigUpdate{Settings: []string{"max_response_kb=2", "max_execution_seconds=0"}})
			return err
		}, "out of range"},
		{"settings on a script configuration", func() error {
			_, err := s.UpdateConfiguration(ctx, "Greet", ConfigUpdate{Settings: []string{"max_response_kb=2"}})
			return err
		}, "script configuration"},
		{"script flags on a Mobile@Work configuration", func() error {
			_, err := s.UpdateConfiguration(ctx, "Lab", ConfigUpdate{Script: &ScriptRequest{RunAs: "root"}})
			return err
		}, "Mobile@Work configuration"},
		{"an edit making an invalid schedule", func() error {
			_, err := s.UpdateConfiguration(ctx, "Greet", ConfigUpdate{Script: &ScriptRequest{Schedule: &schedule.Spec{Kind: schedule.Weekly, At: "09:00"}}})
			return err
		}, "day"},
		{"an undeclared input", func() error {
			_, err := s.UpdateConfiguration(ctx, "Greet", ConfigUpdate{Script: &ScriptRequest{Inputs: []string{"whom=x"}}})
			return err
		}, "declares no input"},
		{"an unknown variable", func() error {
			_, err := s.UpdateConfiguration(ctx, "Greet", ConfigUpdate{Script: &ScriptRequest{Inputs: []string{"who={$nope}"}}})
			return err
		}, "nope"},
		{"an unknown script", func() error {
			_, err := s.AddScriptConfig(ctx, "Ghost", "", ScriptRequest{Script: "ghost"})
			return err
		}, `no script "ghost"`},
		{"a script configuration without a script", func() error { _, err := s.AddScriptConfig(ctx, "Ghost", "", ScriptRequest{}); return err }, "--script is required"},
		{"a bad run-as", func() error {
			_, err := s.AddScriptConfig(ctx, "Ghost", "", ScriptRequest{Script: "hello", RunAs: "admin"})
			return err
		}, "--run-as"},
		{"nothing to change", func() error { _, err := s.UpdateConfiguration(ctx, "Greet", ConfigUpdate{}); return err }, "nothing to change"},
		{"duplicate script name", func() error { _, err := s.AddScript(ctx, "HELLO", "", []byte("true\n"), nil); return err }, "exists already"},
		{"dropping an input in use", func() error {
			if _, err := s.UpdateConfiguration(ctx, "Greet", ConfigUpdate{Script: &ScriptRequest{Inputs: []string{"who=x"}}}); err != nil {
				return err
			}
			before = snapshot()
			_, err := s.UpdateScript(ctx, "hello", ScriptUpdate{Inputs: &[]store.InputDecl{}})
			return err
		}, "overrides input"},
		{"a group named none", func() error { return s.SetDeviceGroups(ctx, "d1", []string{"lab", "none"}) }, "reserved"},
		{"a bad email", func() error { _, err := s.AddUser(ctx, "not an email", ""); return err }, "not an email address"},
		{"a member who is no user", func() error { _, err := s.SetUserGroup(ctx, "eng", []string{"zed@example.com"}, nil); return err }, "no user"},
		{"removing a non-member", func() error { _, err := s.SetUserGroup(ctx, "eng", nil, []string{"bob@example.com"}); return err }, "not a member"},
		{"revoking an unknown token", func() error { _, err := s.RevokeToken(ctx, "tok_00"); return err }, "no token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v; want ErrInvalid saying %q", err, tt.want)
			}
			if after := snapshot(); after != before {
				t.Fatal("a refused request changed the tenant")
			}
		})
	}
	// Devices keep their groups after the refused "none".
	if d, _ := s.Store.Device(ctx, "d1"); !slices.Equal(d.Groups, []string{"lab"}) {
		t.Fatalf("d1 groups %v", d.Groups)
	}
	// "none" alone clears them.
	if err := s.SetDeviceGroups(ctx, "d3", []string{"none"}); err != nil {
		t.Fatal(err)
	}
	if d, _ := s.Store.Device(ctx, "d3"); len(d.Groups) != 0 {
		t.Fatalf("d3 groups %v after none", d.Groups)
	}
}

// TestAmbiguousScriptName: scripts from before names were unique can share
// one; a REF by that name is refused with the ids.
func TestAmbiguousScriptName(t *testing.T) {
	s := newTenant(t)
	ctx := context.Background()
	a := addScript(t, s, "dup", "true\n")
	b := a
	b.ID, b.Name = "scr_00000000000000b2", "DUP"
	if err := s.Store.CreateScript(ctx, b); err != nil {
		t.Fatal(err)
	}
	_, err := s.Script(ctx, "dup")
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "ambiguous") || !strings.Contains(err.Error(), b.ID) {
		t.Fatalf("Script(dup) = %v; want an ambiguity naming both ids", err)
	}
	if got, err := s.Script(ctx, b.ID); err != nil || got.ID != b.ID {
		t.Fatalf("by id: %v, %v", got.ID, err)
	}
}
