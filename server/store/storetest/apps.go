package storetest

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/store"
)

func sampleApp(id string, created time.Time) store.App {
	return store.App{
		ID: id, Name: "Firefox " + id, Kind: protocol.AppKindPackager,
		PackageID: "org.mozilla.firefox", BundleID: "org.mozilla.firefox", Version: "128.0.3",
		Priority: true, FileSHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", FileSize: 1 << 33,
		CreatedAt: created,
	}
}

func checkApp(t *testing.T, got, want store.App) {
	t.Helper()
	got.CreatedAt, want.CreatedAt = utc(got.CreatedAt), utc(want.CreatedAt)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("app =\n %+v\nwant\n %+v", got, want)
	}
}

func testApps(t *testing.T, newStore NewStore) {
	t.Run("round trip", func(t *testing.T) {
		bare := store.App{ID: "a2", Name: "Slack", Kind: protocol.AppKindAppsAndBooks, BundleID: "com.tinyspeck.slackmacgap", CreatedAt: at(0)}
		inHouse := store.App{ID: "a3", Name: "Tools", Kind: protocol.AppKindInHouse, PackageID: "com.example.tools", CreatedAt: at(0)}
		for _, a := range []store.App{sampleApp("a1", at(0)), bare, inHouse} {
			t.Run(a.Kind, func(t *testing.T) {
				s := newStore(t)
				if err := s.CreateApp(ctx(t), a); err != nil {
					t.Fatal(err)
				}
				got, err := s.App(ctx(t), a.ID)
				if err != nil {
					t.Fatal(err)
				}
				checkApp(t, got, a)
			})
		}
	})

	t.Run("duplicate", func(t *testing.T) {
		s := newStore(t)
		a := sampleApp("a1", at(0))
		if err := s.CreateApp(ctx(t), a); err != nil {
			t.Fatal(err)
		}
		other := sampleApp("a1", at(time.Hour))
		other.Name = "Other"
		if err := s.CreateApp(ctx(t), other); !errors.Is(err, store.ErrExists) {
			t.Fatalf("second CreateApp = %v, want ErrExists", err)
		}
		got, err := s.App(ctx(t), "a1")
		if err != nil {
			t.Fatal(err)
		}
		checkApp(t, got, a)
	})

	t.Run("not found", func(t *testing.T) {
		s := newStore(t)
		if _, err := s.App(ctx(t), "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("App = %v, want ErrNotFound", err)
		}
	})

	t.Run("list oldest first", func(t *testing.T) {
		s := newStore(t)
		if got, err := s.Apps(ctx(t)); err != nil || len(got) != 0 {
			t.Fatalf("Apps of an empty store = %v, %v; want none", got, err)
		}
		for _, a := range []store.App{sampleApp("b", at(time.Hour)), sampleApp("a", at(2*time.Hour)), sampleApp("c", at(0))} {
			if err := s.CreateApp(ctx(t), a); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.Apps(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, a := range got {
			ids = append(ids, a.ID)
		}
		if want := []string{"c", "b", "a"}; !slices.Equal(ids, want) {
			t.Fatalf("Apps order = %v, want %v", ids, want)
		}
		checkApp(t, got[1], sampleApp("b", at(time.Hour)))
	})
}
