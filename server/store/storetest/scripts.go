package storetest

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/server/store"
)

func sampleScript(id string, created time.Time) store.Script {
	return store.Script{
		ID:          id,
		Name:        "Rename " + id,
		SHA256:      "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		Size:        4096,
		Description: "Renames the Mac",
		BlobSHA256:  "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752",
		BlobKey:     []byte{0x00, 0x01, 0xfe, 0xff, 0x80, 0x7f, 0x00, 0x42}, // includes NUL and high bytes
		Inputs: []store.InputDecl{
			{Label: "Computer name", Name: "name", Default: "mac-{$serial}"},
			{Label: "Asset tag", Name: "tag"},
		},
		CreatedAt: created,
	}
}

func normScript(s store.Script) store.Script {
	s.CreatedAt = utc(s.CreatedAt)
	if s.UpdatedAt.IsZero() {
		s.UpdatedAt = s.CreatedAt
	}
	s.UpdatedAt = utc(s.UpdatedAt)
	if s.Version == 0 {
		s.Version = 1
	}
	if len(s.Inputs) == 0 {
		s.Inputs = nil
	}
	if len(s.BlobKey) == 0 {
		s.BlobKey = nil
	}
	return s
}

func checkScript(t *testing.T, got, want store.Script) {
	t.Helper()
	if g, w := normScript(got), normScript(want); !reflect.DeepEqual(g, w) {
		t.Errorf("script =\n %+v\nwant\n %+v", g, w)
	}
}

func mustCreateScript(t *testing.T, s store.AllStorage, sc store.Script) {
	t.Helper()
	if err := s.CreateScript(ctx(t), sc); err != nil {
		t.Fatalf("CreateScript %s: %v", sc.ID, err)
	}
}

func testScripts(t *testing.T, newStore NewStore) {
	t.Run("round trip", func(t *testing.T) {
		noInputs := sampleScript("s2", at(0))
		noInputs.Inputs = nil
		emptyInputs := sampleScript("s3", at(0))
		emptyInputs.Inputs = []store.InputDecl{}
		tests := []struct {
			name   string
			script store.Script
		}{
			{"with inputs", sampleScript("s1", at(0))},
			{"no inputs", noInputs},
			{"empty inputs", emptyInputs},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := newStore(t)
				mustCreateScript(t, s, tt.script)
				got, err := s.Script(ctx(t), tt.script.ID)
				if err != nil {
					t.Fatal(err)
				}
				checkScript(t, got, tt.script)
			})
		}
	})

	t.Run("duplicate", func(t *testing.T) {
		s := newStore(t)
		sc := sampleScript("s1", at(0))
		mustCreateScript(t, s, sc)
		other := sampleScript("s1", at(time.Hour))
		other.BlobKey = []byte("another key")
		if err := s.CreateScript(ctx(t), other); !errors.Is(err, store.ErrExists) {
			t.Fatalf("second CreateScript error = %v, want ErrExists", err)
		}
		got, err := s.Script(ctx(t), "s1")
		if err != nil {
			t.Fatal(err)
		}
		checkScript(t, got, sc)
	})

	t.Run("not found", func(t *testing.T) {
		s := newStore(t)
		mustCreateScript(t, s, sampleScript("s1", at(0)))
		if _, err := s.Script(ctx(t), "s2"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Script error = %v, want ErrNotFound", err)
		}
	})

	t.Run("replace blob", func(t *testing.T) {
		s := newStore(t)
		sc := sampleScript("s1", at(0))
		mustCreateScript(t, s, sc)
		v2 := sc
		v2.Version, v2.SHA256, v2.BlobSHA256, v2.BlobKey, v2.UpdatedAt = 2, "aa", "bb", []byte{2}, at(time.Hour)
		if err := s.UpdateScript(ctx(t), v2); err != nil {
			t.Fatal(err)
		}
		// An older version: the script keeps its current blob.
		if err := s.ReplaceScriptBlob(ctx(t), "s1", 1, "cc", []byte{3}); err != nil {
			t.Fatal(err)
		}
		if v, err := s.ScriptVersion(ctx(t), "s1", 1); err != nil || v.BlobSHA256 != "cc" || string(v.BlobKey) != "\x03" || v.SHA256 != sc.SHA256 {
			t.Fatalf("version 1 = %+v, %v; want blob cc", v, err)
		}
		if got, err := s.Script(ctx(t), "s1"); err != nil || got.BlobSHA256 != "bb" || got.Version != 2 {
			t.Fatalf("script = %+v, %v; want version 2 with blob bb", got, err)
		}
		// The current version: the script follows, at the same version.
		if err := s.ReplaceScriptBlob(ctx(t), "s1", 2, "dd", []byte{4}); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Script(ctx(t), "s1"); err != nil || got.BlobSHA256 != "dd" || string(got.BlobKey) != "\x04" || got.Version != 2 {
			t.Fatalf("script = %+v, %v; want version 2 with blob dd", got, err)
		}
		for _, c := range []struct {
			id      string
			version int
		}{{"nope", 1}, {"s1", 3}} {
			if err := s.ReplaceScriptBlob(ctx(t), c.id, c.version, "ee", nil); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("ReplaceScriptBlob(%s, %d) = %v, want ErrNotFound", c.id, c.version, err)
			}
		}
	})

	t.Run("list", func(t *testing.T) {
		s := newStore(t)
		if got, err := s.Scripts(ctx(t)); err != nil || len(got) != 0 {
			t.Fatalf("Scripts of an empty store = %v, %v; want none", got, err)
		}
		for _, sc := range []store.Script{sampleScript("b", at(time.Hour)), sampleScript("a", at(2*time.Hour)), sampleScript("c", at(0))} {
			mustCreateScript(t, s, sc)
		}
		got, err := s.Scripts(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, sc := range got {
			ids = append(ids, sc.ID)
		}
		if want := []string{"c", "b", "a"}; !slices.Equal(ids, want) {
			t.Fatalf("Scripts order = %v, want %v (oldest first)", ids, want)
		}
		checkScript(t, got[0], sampleScript("c", at(0)))
	})
}
