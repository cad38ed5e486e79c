package storetest

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/protocol/schedule"
	"github.com/mobileatwork/mobileatwork/server/store"
)

func sampleAssignment(id, scriptID string, created time.Time) store.Assignment {
	return store.Assignment{
		ID:       id,
		ScriptID: scriptID,
		Target:   store.TargetGroup,
		TargetID: "engineering",
		Schedule: schedule.Spec{
			Kind:  schedule.Weekly,
			At:    "09:30",
			Days:  []string{"mon", "wed", "fri"},
			TZ:    "local",
			Start: "2026-03-16",
			End:   "2026-06-30",
		},
		Inputs:    map[string]string{"name": "mac-{$serial}", "tag": "A-1234"},
		RunAs:     protocol.RunAsConsoleUser,
		Version:   3,
		CreatedAt: created,
	}
}

func normAssignment(a store.Assignment) store.Assignment {
	a.CreatedAt = utc(a.CreatedAt)
	if len(a.Inputs) == 0 {
		a.Inputs = nil
	}
	if len(a.Schedule.Days) == 0 {
		a.Schedule.Days = nil
	}
	return a
}

func checkAssignment(t *testing.T, got, want store.Assignment) {
	t.Helper()
	if g, w := normAssignment(got), normAssignment(want); !reflect.DeepEqual(g, w) {
		t.Errorf("assignment =\n %+v\nwant\n %+v", g, w)
	}
}

func mustCreateAssignment(t *testing.T, s store.AllStorage, a store.Assignment) {
	t.Helper()
	if err := s.CreateAssignment(ctx(t), a); err != nil {
		t.Fatalf("CreateAssignment %s: %v", a.ID, err)
	}
}

func testAssignments(t *testing.T, newStore NewStore) {
	t.Run("round trip", func(t *testing.T) {
		tests := []struct {
			name string
			edit func(*store.Assignment)
		}{
			{"weekly with inputs", func(*store.Assignment) {}},
			{"once to all, no inputs", func(a *store.Assignment) {
				a.Target, a.TargetID = store.TargetAll, ""
				a.Schedule = schedule.Spec{Kind: schedule.Once}
				a.Inputs = nil
				a.RunAs = protocol.RunAsRoot
			}},
			{"daily UTC to a device, empty inputs", func(a *store.Assignment) {
				a.Target, a.TargetID = store.TargetDevice, "d1"
				a.Schedule = schedule.Spec{Kind: schedule.Daily, At: "23:59", TZ: "utc", Start: "2026-01-01"}
				a.Inputs = map[string]string{}
			}},
			{"input value empty", func(a *store.Assignment) {
				a.Target, a.TargetID = store.TargetUser, "ada@example.com"
				a.Inputs = map[string]string{"tag": ""}
			}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := newStore(t)
				mustCreateScript(t, s, sampleScript("s1", at(0)))
				a := sampleAssignment("a1", "s1", at(time.Minute))
				tt.edit(&a)
				mustCreateAssignment(t, s, a)
				got, err := s.Assignment(ctx(t), "a1")
				if err != nil {
					t.Fatal(err)
				}
				checkAssignment(t, got, a)
			})
		}
	})

	t.Run("duplicate", func(t *testing.T) {
		s := newStore(t)
		mustCreateScript(t, s, sampleScript("s1", at(0)))
		a := sampleAssignment("a1", "s1", at(0))
		mustCreateAssignment(t, s, a)
		other := sampleAssignment("a1", "s1", at(time.Hour))
		other.Version = 9
		if err := s.CreateAssignment(ctx(t), other); !errors.Is(err, store.ErrExists) {
			t.Fatalf("second CreateAssignment error = %v, want ErrExists", err)
		}
		got, err := s.Assignment(ctx(t), "a1")
		if err != nil {
			t.Fatal(err)
		}
		checkAssignment(t, got, a)
	})

	t.Run("not found", func(t *testing.T) {
		s := newStore(t)
		mustCreateScript(t, s, sampleScript("s1", at(0)))
		mustCreateAssignment(t, s, sampleAssignment("a1", "s1", at(0)))
		if _, err := s.Assignment(ctx(t), "a2"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Assignment error = %v, want ErrNotFound", err)
		}
	})

	t.Run("unknown script", func(t *testing.T) {
		s := newStore(t)
		if err := s.CreateAssignment(ctx(t), sampleAssignment("a1", "missing", at(0))); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("CreateAssignment error = %v, want ErrNotFound", err)
		}
		if _, err := s.Assignment(ctx(t), "a1"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("an assignment to a missing script was stored (Assignment error = %v)", err)
		}
	})

	t.Run("list", func(t *testing.T) {
		s := newStore(t)
		if got, err := s.Assignments(ctx(t)); err != nil || len(got) != 0 {
			t.Fatalf("Assignments of an empty store = %v, %v; want none", got, err)
		}
		mustCreateScript(t, s, sampleScript("s1", at(0)))
		for _, a := range []store.Assignment{
			sampleAssignment("x", "s1", at(3*time.Hour)),
			sampleAssignment("y", "s1", at(time.Hour)),
			sampleAssignment("z", "s1", at(2*time.Hour)),
		} {
			mustCreateAssignment(t, s, a)
		}
		got, err := s.Assignments(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, a := range got {
			ids = append(ids, a.ID)
		}
		if want := []string{"y", "z", "x"}; !slices.Equal(ids, want) {
			t.Fatalf("Assignments order = %v, want %v (oldest first)", ids, want)
		}
		checkAssignment(t, got[0], sampleAssignment("y", "s1", at(time.Hour)))
	})
}
