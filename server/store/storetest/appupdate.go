package storetest

import (
	"errors"
	"testing"

	"github.com/mobileatwork/mobileatwork/server/distribution"
	"github.com/mobileatwork/mobileatwork/server/store"
)

func testAppPackageUpdate(t *testing.T, newStore NewStore) {
	t.Run("moves version and file, keeps the rest", func(t *testing.T) {
		s := newStore(t)
		a, other := sampleApp("a1", at(0)), sampleApp("a2", at(tick))
		for _, x := range []store.App{a, other} {
			if err := s.CreateApp(ctx(t), x); err != nil {
				t.Fatal(err)
			}
		}
		d := store.AppDistribution{ID: "d1", AppID: "a1", Target: distribution.All, CreatedAt: at(0)}
		if err := s.AddAppDistribution(ctx(t), d); err != nil {
			t.Fatal(err)
		}
		const sum = "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752"
		if err := s.UpdateAppPackage(ctx(t), "a1", "129.0", sum, 42); err != nil {
			t.Fatal(err)
		}
		got, err := s.App(ctx(t), "a1")
		if err != nil {
			t.Fatal(err)
		}
		want := a
		want.Version, want.FileSHA256, want.FileSize = "129.0", sum, 42
		checkApp(t, got, want)
		if got, err := s.App(ctx(t), "a2"); err != nil {
			t.Fatal(err)
		} else {
			checkApp(t, got, other)
		}
		ds, err := s.AppDistributions(ctx(t))
		if err != nil || len(ds) != 1 || ds[0].ID != "d1" {
			t.Errorf("distributions after update = %+v, %v; want d1 kept", ds, err)
		}
	})

	t.Run("unknown app", func(t *testing.T) {
		s := newStore(t)
		if err := s.UpdateAppPackage(ctx(t), "nope", "1.0", "", 0); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("UpdateAppPackage = %v, want ErrNotFound", err)
		}
	})
}
