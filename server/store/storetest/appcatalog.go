package storetest

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/distribution"
	"github.com/mobileatwork/mobileatwork/server/store"
)

func testAppCatalog(t *testing.T, newStore NewStore) {
	withApp := func(t *testing.T) store.AllStorage {
		s := newStore(t)
		if err := s.CreateApp(ctx(t), store.App{ID: "a1", Name: "Tools", Kind: protocol.AppKindInHouse, PackageID: "com.example.tools", CreatedAt: at(0)}); err != nil {
			t.Fatal(err)
		}
		return s
	}

	t.Run("details round trip and replace", func(t *testing.T) {
		s := withApp(t)
		got, err := s.AppDetails(ctx(t), "a1")
		if err != nil || !reflect.DeepEqual(got, store.AppDetails{AppID: "a1"}) {
			t.Fatalf("details before any = %+v, %v; want empty", got, err)
		}
		d := store.AppDetails{
			AppID: "a1", Publisher: "Example Corp", Category: "Productivity",
			ShortDescription: "Tools for the team", Description: "Line one.\nLine two — with ünïcode.",
			Icon:        &store.Image{SHA256: "aa", Size: 10, ContentType: "image/png", Alt: "Tools icon"},
			Screenshots: []store.Image{{SHA256: "bb", Size: 20, ContentType: "image/jpeg", Alt: "Main window"}},
			UpdatedAt:   at(time.Minute),
		}
		for _, want := range []store.AppDetails{d, {AppID: "a1", Category: "Utilities", UpdatedAt: at(time.Hour)}} {
			if err := s.PutAppDetails(ctx(t), want); err != nil {
				t.Fatal(err)
			}
			got, err := s.AppDetails(ctx(t), "a1")
			if err != nil {
				t.Fatal(err)
			}
			got.UpdatedAt, want.UpdatedAt = utc(got.UpdatedAt), utc(want.UpdatedAt)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("details =\n %+v\nwant\n %+v", got, want)
			}
		}
	})

	t.Run("unknown app", func(t *testing.T) {
		s := withApp(t)
		if err := s.PutAppDetails(ctx(t), store.AppDetails{AppID: "nope", UpdatedAt: at(0)}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("PutAppDetails = %v, want ErrNotFound", err)
		}
		if _, err := s.AppDetails(ctx(t), "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("AppDetails = %v, want ErrNotFound", err)
		}
		if err := s.AddReview(ctx(t), store.Review{ID: "r1", AppID: "nope", Author: "a", Rating: 3, CreatedAt: at(0)}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("AddReview = %v, want ErrNotFound", err)
		}
		if err := s.AddAppDistribution(ctx(t), store.AppDistribution{ID: "d1", AppID: "nope", Target: distribution.All, CreatedAt: at(0)}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("AddAppDistribution = %v, want ErrNotFound", err)
		}
	})

	t.Run("reviews newest first", func(t *testing.T) {
		s := withApp(t)
		in := []store.Review{
			{ID: "r1", AppID: "a1", Author: "Ada", Rating: 5, Text: "Great", CreatedAt: at(time.Hour)},
			{ID: "r2", AppID: "a1", Author: "Bob", Rating: 2, Text: "Slow", CreatedAt: at(2 * time.Hour)},
		}
		for _, r := range in {
			if err := s.AddReview(ctx(t), r); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.AddReview(ctx(t), in[0]); !errors.Is(err, store.ErrExists) {
			t.Fatalf("duplicate review = %v, want ErrExists", err)
		}
		got, err := s.Reviews(ctx(t), "a1")
		if err != nil || len(got) != 2 || got[0].ID != "r2" || got[1].ID != "r1" || got[1].Text != "Great" || got[1].Rating != 5 {
			t.Fatalf("Reviews = %+v, %v", got, err)
		}
		if none, err := s.Reviews(ctx(t), "other"); err != nil || len(none) != 0 {
			t.Fatalf("Reviews of another app = %+v, %v", none, err)
		}
	})

	t.Run("distributions", func(t *testing.T) {
		s := withApp(t)
		ds := []store.AppDistribution{
			{ID: "d1", AppID: "a1", Target: distribution.DeviceGroup, TargetID: "design", CreatedAt: at(time.Minute)},
			{ID: "d2", AppID: "a1", Target: distribution.All, CreatedAt: at(2 * time.Minute)},
		}
		for _, d := range ds {
			if err := s.AddAppDistribution(ctx(t), d); err != nil {
				t.Fatal(err)
			}
		}
		dup := ds[0]
		dup.ID = "d3"
		if err := s.AddAppDistribution(ctx(t), dup); !errors.Is(err, store.ErrExists) {
			t.Fatalf("same target twice = %v, want ErrExists", err)
		}
		got, err := s.AppDistributions(ctx(t))
		defer func() {
			// Replacing: the app's distributions become exactly the new ones.
			repl := []store.AppDistribution{{ID: "d9", AppID: "a1", Target: distribution.User, TargetID: "ada@example.com", CreatedAt: at(time.Hour)}}
			if err := s.SetAppDistributions(ctx(t), "a1", repl); err != nil {
				t.Fatal(err)
			}
			if got, _ := s.AppDistributions(ctx(t)); len(got) != 1 || got[0].ID != "d9" {
				t.Fatalf("after SetAppDistributions: %+v", got)
			}
			if err := s.SetAppDistributions(ctx(t), "a1", nil); err != nil {
				t.Fatal(err)
			}
			if got, _ := s.AppDistributions(ctx(t)); len(got) != 0 {
				t.Fatalf("after withdrawing: %+v", got)
			}
			if err := s.SetAppDistributions(ctx(t), "nope", nil); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("SetAppDistributions of an unknown app = %v, want ErrNotFound", err)
			}
		}()
		if err != nil || len(got) != 2 {
			t.Fatalf("AppDistributions = %+v, %v", got, err)
		}
		for i := range got {
			got[i].CreatedAt = utc(got[i].CreatedAt)
			ds[i].CreatedAt = utc(ds[i].CreatedAt)
		}
		if !reflect.DeepEqual(got, ds) {
			t.Fatalf("AppDistributions =\n %+v\nwant\n %+v", got, ds)
		}
	})
}
