package appcatalog

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
)

func TestShownMarks(t *testing.T) {
	m := ShownMarks{Dir: filepath.Join(t.TempDir(), "MobileAtWork"), Clock: clockwork.NewFakeClockAt(time.Unix(0, 0))}
	shown := func(id string) bool {
		t.Helper()
		ok, err := m.Shown(id)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if shown("dev-1") {
		t.Fatal("shown before any mark")
	}
	if err := m.Mark("dev-1"); err != nil {
		t.Fatal(err)
	}
	if !shown("dev-1") {
		t.Error("not shown after Mark")
	}
	if shown("dev-2") {
		t.Error("a new enrollment counts as shown: Apps@Work must open again after re-enrollment")
	}
	fi, err := os.Stat(filepath.Join(m.Dir, "catalog-shown-dev-1"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("marker: %v, %v; want a 0600 file", fi, err)
	}
	if di, err := os.Stat(m.Dir); err != nil || di.Mode().Perm() != 0o700 {
		t.Errorf("marker directory: %v, %v; want 0700", di, err)
	}
	if err := m.Unmark("dev-1"); err != nil {
		t.Fatal(err)
	}
	if shown("dev-1") {
		t.Error("still shown after Unmark")
	}
	if err := m.Unmark("dev-1"); err != nil {
		t.Errorf("second Unmark: %v", err)
	}
	for _, id := range []string{"", "../escape", "a/b", ".hidden", "dev 1"} {
		t.Run("refuses "+id, func(t *testing.T) {
			if err := m.Mark(id); !errors.Is(err, ErrBadDeviceID) {
				t.Errorf("Mark(%q) = %v, want ErrBadDeviceID", id, err)
			}
			if _, err := m.Shown(id); !errors.Is(err, ErrBadDeviceID) {
				t.Errorf("Shown(%q) = %v, want ErrBadDeviceID", id, err)
			}
		})
	}
}
