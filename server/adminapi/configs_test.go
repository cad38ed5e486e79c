package adminapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/protocol/schedule"
	"github.com/mobileatwork/mobileatwork/server"
	"github.com/mobileatwork/mobileatwork/server/accounts"
	"github.com/mobileatwork/mobileatwork/server/jsonview"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// fleet is a tenant with a script and two devices, one in group lab.
func fleet(t *testing.T) *api {
	t.Helper()
	a := newAPI(t)
	ctx := context.Background()
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	for _, d := range []store.Device{
		{ID: "dev_1", Facts: protocol.Facts{SerialNumber: "C02ONE"}, Groups: []string{"lab"}, EnrolledAt: t0, Capabilities: []string{protocol.CapCancel}},
		{ID: "dev_2", Facts: protocol.Facts{SerialNumber: "C02TWO"}, EnrolledAt: t0},
	} {
		if err := a.s.Store.CreateDevice(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.s.AddScript(ctx, "hello", "", []byte("#!/bin/sh\necho hello $1\n"), []store.InputDecl{{Label: "Who", Name: "who", Default: "world"}}); err != nil {
		t.Fatal(err)
	}
	return a
}

// same calls f in local mode and in remote mode as role and fails unless
// both give the same document, or the same refusal.
func same[T any](t *testing.T, a *api, role accounts.Role, f func(Conn) (T, error)) (T, error) {
	t.Helper()
	l, lerr := f(a.local())
	r, rerr := f(a.remote(role))
	if (lerr == nil) != (rerr == nil) {
		t.Fatalf("local: %v, remote: %v; want the same outcome", lerr, rerr)
	}
	if lerr != nil {
		if lerr.Error() != rerr.Error() {
			t.Fatalf("local says %q, remote %q", lerr, rerr)
		}
		return r, rerr
	}
	lj, _ := json.Marshal(l)
	rj, _ := json.Marshal(r)
	if !bytes.Equal(lj, rj) {
		t.Fatalf("local and remote documents differ:\nlocal  %s\nremote %s", lj, rj)
	}
	return r, nil
}

// state is what the refusals must leave as it was.
func state(t *testing.T, a *api) string {
	t.Helper()
	ctx := context.Background()
	cs, err := All(ctx, a.local(), ListConfigs, ConfigListRequest{})
	if err != nil {
		t.Fatal(err)
	}
	ss, err := All(ctx, a.local(), ListScripts, ListRequest{})
	if err != nil {
		t.Fatal(err)
	}
	stops, err := All(ctx, a.local(), ListStops, ListRequest{})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal([]any{cs, ss, stops})
	return string(b)
}

func TestRefusalsAreTheSameBothWaysAndChangeNothing(t *testing.T) {
	a := fleet(t)
	ctx := context.Background()
	before := state(t, a)
	daily := &schedule.Words{Daily: "10:00"}
	type call func(Conn) (any, error)
	wrap := func(f func(c Conn) (any, error)) call { return f }
	cases := []struct {
		name string
		f    call
		want error
		text string
	}{
		{"unknown configuration", wrap(func(c Conn) (any, error) { return Call(ctx, c, ShowConfig, RefRequest{Ref: "nope"}) }), server.ErrInvalid, `no configuration "nope"`},
		{"unknown kind", wrap(func(c Conn) (any, error) {
			return Call(ctx, c, AddConfig, ConfigAddRequest{Kind: "profile", Name: "x"})
		}), server.ErrInvalid, "want mobileatwork or script"},
		{"a schedule on Mobile@Work", wrap(func(c Conn) (any, error) {
			return Call(ctx, c, AddConfig, ConfigAddRequest{Kind: "mobileatwork", Name: "x", Script: &ScriptFields{Schedule: daily}})
		}), server.ErrInvalid, "--daily belongs to script configurations"},
		{"settings on a script", wrap(func(c Conn) (any, error) {
			return Call(ctx, c, AddConfig, ConfigAddRequest{Kind: "script", Name: "x", Settings: []string{"max_response_kb=2"}, Script: &ScriptFields{Script: "hello"}})
		}), server.ErrInvalid, "no KEY=VALUE"},
		{"a bad time", wrap(func(c Conn) (any, error) {
			return Call(ctx, c, AddConfig, ConfigAddRequest{Kind: "script", Name: "x", Script: &ScriptFields{Script: "hello", Schedule: &schedule.Words{Daily: "24:00"}}})
		}), server.ErrInvalid, "24:00"},
		{"two schedules", wrap(func(c Conn) (any, error) {
			return Call(ctx, c, AddConfig, ConfigAddRequest{Kind: "script", Name: "x", Script: &ScriptFields{Script: "hello", Schedule: &schedule.Words{Daily: "10:00", Weekly: "10:00"}}})
		}), server.ErrInvalid, "choose one of"},
		{"a trigger with a time", wrap(func(c Conn) (any, error) {
			return Call(ctx, c, Assign, AssignRequest{Script: ScriptFields{Script: "hello", Schedule: &schedule.Words{On: "login", Daily: "10:00"}}, To: []string{"all"}})
		}), server.ErrInvalid, "takes no --daily"},
		{"an unknown trigger", wrap(func(c Conn) (any, error) {
			return Call(ctx, c, Assign, AssignRequest{Script: ScriptFields{Script: "hello", Schedule: &schedule.Words{On: "reboot"}}, To: []string{"all"}})
		}), server.ErrInvalid, "want enrollment"},
		{"an undeclared input", wrap(func(c Conn) (any, error) {
			return Call(ctx, c, Assign, AssignRequest{Script: ScriptFields{Script: "hello", Inputs: []string{"what=1"}}, To: []string{"all"}})
		}), server.ErrInvalid, "declares no input"},
		{"a bad target", wrap(func(c Conn) (any, error) {
			return Call(ctx, c, DistributeConfig, DistributeRequest{Ref: "default", To: []string{"everyone"}})
		}), server.ErrInvalid, "--to"},
		{"an unknown device", wrap(func(c Conn) (any, error) {
			return Call(ctx, c, DistributeConfig, DistributeRequest{Ref: "default", To: []string{"device:dev_nope"}, DryRun: true})
		}), server.ErrInvalid, "unknown device"},
		{"none mixed", wrap(func(c Conn) (any, error) {
			return Call(ctx, c, Assign, AssignRequest{Script: ScriptFields{Script: "hello"}, To: []string{"none,group:lab"}})
		}), server.ErrInvalid, "cannot be mixed"},
		{"priority out of range", wrap(func(c Conn) (any, error) {
			return Call(ctx, c, PrioritizeConfig, PriorityRequest{Ref: "default", Priority: 2})
		}), server.ErrInvalid, "out of range"},
		{"delete the default", wrap(func(c Conn) (any, error) { return Call(ctx, c, DeleteConfig, RefRequest{Ref: "default"}) }), server.ErrInvalid, "cannot be deleted"},
		{"cancel a Mobile@Work configuration", wrap(func(c Conn) (any, error) {
			return Call(ctx, c, CancelConfig, CancelRequest{Ref: "default"})
		}), server.ErrInvalid, "only the runs of a script configuration"},
		{"nothing to set", wrap(func(c Conn) (any, error) { return Call(ctx, c, SetConfig, ConfigSetRequest{Ref: "default"}) }), server.ErrInvalid, "nothing to change"},
		{"a bad setting", wrap(func(c Conn) (any, error) {
			return Call(ctx, c, SetConfig, ConfigSetRequest{Ref: "default", Settings: []string{"max_execution_seconds=-1"}})
		}), server.ErrInvalid, "out of range"},
		{"a bad kind to list", wrap(func(c Conn) (any, error) { return Call(ctx, c, ListConfigs, ConfigListRequest{Kind: "x"}) }), server.ErrInvalid, "--kind"},
		{"a bad since", wrap(func(c Conn) (any, error) { return Call(ctx, c, ListResults, ResultsRequest{Since: "yesterday"}) }), server.ErrInvalid, "--since"},
		{"a bad status", wrap(func(c Conn) (any, error) { return Call(ctx, c, ListResults, ResultsRequest{Status: "great"}) }), server.ErrInvalid, "--status"},
		{"a bad page", wrap(func(c Conn) (any, error) {
			return Call(ctx, c, ListResults, ResultsRequest{PageRequest: PageRequest{Limit: MaxLimit + 1}})
		}), errBadRequest, "limit"},
		{"a binary script", wrap(func(c Conn) (any, error) {
			return Call(ctx, c, AddScript, ScriptAddRequest{Name: "x", Body: []byte("\x7fELF\x00")})
		}), server.ErrInvalid, "not text"},
		{"an empty new body", wrap(func(c Conn) (any, error) {
			return Call(ctx, c, SetScript, ScriptSetRequest{Ref: "hello", Body: &[]byte{}})
		}), server.ErrInvalid, "empty"},
		{"a bad input declaration", wrap(func(c Conn) (any, error) {
			return Call(ctx, c, AddScript, ScriptAddRequest{Name: "x", Body: []byte("echo\n"), Inputs: []string{"no-colon"}})
		}), server.ErrInvalid, "LABEL:NAME"},
		{"an unknown script", wrap(func(c Conn) (any, error) { return Call(ctx, c, ShowScript, RefRequest{Ref: "scr_nope"}) }), server.ErrInvalid, "no script"},
		{"a version that is not a number", wrap(func(c Conn) (any, error) {
			return Call(ctx, c, ShowScriptVersion, ScriptVersionRequest{Ref: "hello", Version: "latest"})
		}), errBadRequest, "not a version number"},
		{"a version that never was", wrap(func(c Conn) (any, error) {
			return Call(ctx, c, ShowScriptVersion, ScriptVersionRequest{Ref: "hello", Version: "9"})
		}), server.ErrInvalid, "has no version 9"},
		{"a run going nowhere", wrap(func(c Conn) (any, error) { return Call(ctx, c, CreateRun, RunRequest{Script: "hello"}) }), server.ErrInvalid, "say where to run it"},
		{"a run with a bad expiry", wrap(func(c Conn) (any, error) {
			return Call(ctx, c, CreateRun, RunRequest{Script: "hello", To: []string{"all"}, Expires: "soon"})
		}), errBadRequest, "expires"},
		{"an unknown run", wrap(func(c Conn) (any, error) { return Call(ctx, c, ShowRun, RunShowRequest{ID: "cfg_nope"}) }), server.ErrInvalid, "no configuration"},
		{"a run looked at since no time", wrap(func(c Conn) (any, error) {
			return Call(ctx, c, ShowRun, RunShowRequest{ID: "default", Since: "yesterday"})
		}), errBadRequest, "RFC 3339"},
		{"a reason on two lines", wrap(func(c Conn) (any, error) {
			return Call(ctx, c, StopScripts, StopRequest{Reason: "a\nb"})
		}), server.ErrInvalid, "--reason"},
		{"a resume with a reason", wrap(func(c Conn) (any, error) {
			return Call(ctx, c, ResumeScripts, ResumeRequest{Reason: "why"})
		}), errBadRequest, "takes no reason"},
		{"a stop of an unknown device", wrap(func(c Conn) (any, error) {
			return Call(ctx, c, StopScripts, StopRequest{Devices: []string{"dev_nope"}})
		}), server.ErrInvalid, "no device"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := same(t, a, accounts.RoleAdmin, tc.f)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) {
				t.Fatalf("err = %v; want %v mentioning %q", err, tc.want, tc.text)
			}
		})
	}
	if after := state(t, a); after != before {
		t.Errorf("refusals changed the tenant:\nbefore %s\nafter  %s", before, after)
	}
}

func TestConfigurationsBothWays(t *testing.T) {
	a := fleet(t)
	ctx := context.Background()
	for name, c := range map[string]Conn{"local": a.local(), "remote": a.remote(accounts.RoleOperator)} {
		t.Run(name, func(t *testing.T) {
			cfg, err := Call(ctx, c, AddConfig, ConfigAddRequest{Kind: "script", Name: "Weekly " + name,
				Script: &ScriptFields{Script: "hello", Inputs: []string{"who=ada"}, Schedule: &schedule.Words{Weekly: "18:30", Days: "fri,mon", TZ: "utc"}}})
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Script == nil || cfg.Script.ScriptName != "hello" || cfg.Script.ScriptVersion != 1 || cfg.Script.When == "" ||
				strings.Join(cfg.Script.Schedule.Days, ",") != "mon,fri" || cfg.Distribution.Level != "none" {
				t.Fatalf("added %+v", cfg)
			}
			// A dry run lists the devices and changes nothing.
			d, err := Call(ctx, c, DistributeConfig, DistributeRequest{Ref: cfg.ID, To: []string{"group:lab"}, DryRun: true})
			if err != nil || d.Count != 1 || len(d.Devices) != 1 || d.Devices[0].ID != "dev_1" {
				t.Fatalf("dry run: %v %+v", err, d)
			}
			got, err := same(t, a, accounts.RoleAuditor, func(c Conn) (jsonview.ConfigDetail, error) { return Call(ctx, c, ShowConfig, RefRequest{Ref: cfg.ID}) })
			if err != nil || got.Distribution.Level != "none" || len(got.Devices) != 0 {
				t.Fatalf("after a dry run: %v %+v", err, got.Distribution)
			}
			if d, err = Call(ctx, c, DistributeConfig, DistributeRequest{Ref: cfg.Name, To: []string{"group:lab", "device:dev_2"}}); err != nil || d.Count != 2 {
				t.Fatalf("distribute: %v %+v", err, d)
			}
			got, err = Call(ctx, c, ShowConfig, RefRequest{Ref: cfg.ID})
			if err != nil || got.Summary.Reached != 2 || len(got.Devices) != 2 || got.Devices[0].Status.Status != store.StatusPending {
				t.Fatalf("show: %v %+v", err, got)
			}
			set, err := Call(ctx, c, SetConfig, ConfigSetRequest{Ref: cfg.ID, Script: &ScriptFields{Schedule: &schedule.Words{On: "login"}, Retries: new(2)}})
			if err != nil || set.Version != 2 || set.Script.Schedule.Kind != schedule.Login || set.Script.Retries != 2 || set.Script.Inputs["who"] != "ada" {
				t.Fatalf("set: %v %+v", err, set)
			}
			renamed, err := Call(ctx, c, SetConfig, ConfigSetRequest{Ref: cfg.ID, Name: new("Login " + name)})
			if err != nil || renamed.Version != 2 || renamed.Name != "Login "+name {
				t.Fatalf("rename: %v %+v", err, renamed)
			}
			can, err := Call(ctx, c, CancelConfig, CancelRequest{Ref: cfg.ID, Devices: []string{"dev_1"}})
			if err != nil || !can.Changed || can.Everywhere || len(can.Devices) != 1 || can.Devices[0].Outcome != server.CancelCancelled {
				t.Fatalf("cancel: %v %+v", err, can)
			}
			again, err := Call(ctx, c, CancelConfig, CancelRequest{Ref: cfg.ID, Devices: []string{"dev_1"}})
			if err != nil || again.Changed || again.Devices[0].Outcome != server.CancelAlreadyCancelled {
				t.Fatalf("cancel again: %v %+v", err, again)
			}
			if del, err := Call(ctx, c, DeleteConfig, RefRequest{Ref: cfg.ID}); err != nil || del.ID != cfg.ID {
				t.Fatalf("delete: %v %+v", err, del)
			}
			if _, err := Call(ctx, c, ShowConfig, RefRequest{Ref: cfg.ID}); !errors.Is(err, server.ErrInvalid) {
				t.Fatalf("show after delete: %v", err)
			}

			maw, err := Call(ctx, c, AddConfig, ConfigAddRequest{Kind: "mobileatwork", Name: "Lab " + name, Settings: []string{"max_response_kb=2"}})
			if err != nil || maw.Settings["max_response_kb"] != "2" || strings.Join(maw.SettingsSet, ",") != "max_response_kb" || maw.Priority < 2 {
				t.Fatalf("add Mobile@Work: %v %+v", err, maw)
			}
			if p, err := Call(ctx, c, PrioritizeConfig, PriorityRequest{Ref: maw.ID, Priority: 1}); err != nil || p.Priority != 1 {
				t.Fatalf("priority: %v %+v", err, p)
			}
			as, err := Call(ctx, c, Assign, AssignRequest{Script: ScriptFields{Script: "hello", Schedule: &schedule.Words{Daily: "07:00"}}, To: []string{"all"}})
			if err != nil || as.Count != 2 || as.Config.Distribution.Level != "all" || as.Config.Script.Schedule.Kind != schedule.Daily {
				t.Fatalf("assign: %v %+v", err, as)
			}
		})
	}
	// Both modes read the same documents.
	items, _ := same(t, a, accounts.RoleAuditor, func(c Conn) ([]ConfigListItem, error) { return All(ctx, c, ListConfigs, ConfigListRequest{}) })
	if len(items) != 5 || items[0].Priority != 1 {
		t.Fatalf("listed %+v", items)
	}
	scripts, _ := same(t, a, accounts.RoleAuditor, func(c Conn) ([]ConfigListItem, error) {
		return All(ctx, c, ListConfigs, ConfigListRequest{Kind: store.KindScript})
	})
	for _, it := range scripts {
		if it.Kind != store.KindScript || it.DevicesReached != 2 {
			t.Errorf("script list item %+v", it)
		}
	}
	same(t, a, accounts.RoleAuditor, func(c Conn) (any, error) { return Call(ctx, c, ShowConfig, RefRequest{Ref: "default"}) })
}
