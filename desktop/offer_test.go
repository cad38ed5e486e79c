package desktop

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestOffer(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ui")
	uid := os.Geteuid()
	s := Offer{URL: "http://127.0.0.1:5000/?s=secret", BootID: "boot-1", PID: 42, WrittenAt: time.Now().UTC()}
	if _, err := ReadOffer(dir, uid, "boot-1"); !errors.Is(err, ErrNoOffer) {
		t.Fatalf("before writing: %v, want ErrNoOffer", err)
	}
	if err := WriteOffer(dir, uid, s); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(offerPath(dir, uid))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("offer file mode %v, want 0600: it carries the page secret", fi.Mode().Perm())
	}
	if di, _ := os.Stat(dir); di.Mode().Perm() != 0o755 {
		t.Errorf("offer directory mode %v, want 0755", di.Mode().Perm())
	}
	got, err := ReadOffer(dir, uid, "boot-1")
	if err != nil || got.URL != s.URL || got.PID != 42 {
		t.Fatalf("read = %+v, %v", got, err)
	}
	t.Run("earlier boot", func(t *testing.T) {
		if _, err := ReadOffer(dir, uid, "boot-2"); !errors.Is(err, ErrStaleOffer) {
			t.Errorf("other boot: %v, want ErrStaleOffer", err)
		}
	})
	t.Run("removed", func(t *testing.T) {
		if err := RemoveOffer(dir, uid); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadOffer(dir, uid, "boot-1"); !errors.Is(err, ErrNoOffer) {
			t.Errorf("after removal: %v, want ErrNoOffer", err)
		}
		if err := RemoveOffer(dir, uid); err != nil {
			t.Errorf("second removal: %v", err)
		}
	})
	t.Run("directory is a link", func(t *testing.T) {
		target := t.TempDir()
		link := filepath.Join(t.TempDir(), "link")
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
		if err := WriteOffer(link, uid, s); err == nil {
			t.Error("wrote through a symbolic link")
		}
		if left, _ := os.ReadDir(target); len(left) != 0 {
			t.Errorf("refused write left %d files behind the link", len(left))
		}
	})
}

func TestOfferCatalog(t *testing.T) {
	uid := os.Geteuid()
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name           string
		s              Offer
		wantOnboarding bool
	}{
		{"onboarding and catalog", Offer{URL: "http://127.0.0.1:5000/?s=a", CatalogURL: "http://127.0.0.1:5001/?s=b", DeviceID: "dev-1", BootID: "boot-1", WrittenAt: at}, true},
		{"catalog only", Offer{CatalogURL: "http://127.0.0.1:5001/?s=b", DeviceID: "dev-1", BootID: "boot-1", WrittenAt: at}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "ui")
			if err := WriteOffer(dir, uid, tc.s); err != nil {
				t.Fatal(err)
			}
			got, err := ReadOffer(dir, uid, "boot-1")
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.s {
				t.Errorf("read %+v, want %+v", got, tc.s)
			}
			if got.Onboarding() != tc.wantOnboarding {
				t.Errorf("Onboarding() = %v, want %v", got.Onboarding(), tc.wantOnboarding)
			}
			if fi, err := os.Stat(offerPath(dir, uid)); err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("offer file: %v, %v; want 0600: it carries the pages' secrets", fi.Mode().Perm(), err)
			}
			if _, err := ReadOffer(dir, uid, "boot-2"); !errors.Is(err, ErrStaleOffer) {
				t.Errorf("other boot: %v, want ErrStaleOffer", err)
			}
		})
	}
	t.Run("nothing offered", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "ui")
		if err := WriteOffer(dir, uid, Offer{DeviceID: "dev-1", BootID: "boot-1"}); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadOffer(dir, uid, "boot-1"); !errors.Is(err, ErrNoOffer) {
			t.Errorf("empty offer: %v, want ErrNoOffer", err)
		}
	})
	t.Run("file of an earlier version", func(t *testing.T) {
		dir := t.TempDir()
		old := `{"url":"http://127.0.0.1:5000/?s=a","boot_id":"boot-1","pid":7,"written_at":"2026-03-02T09:00:00Z"}`
		if err := os.WriteFile(offerPath(dir, uid), []byte(old), 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := ReadOffer(dir, uid, "boot-1")
		if err != nil || !got.Onboarding() || got.CatalogURL != "" || got.PID != 7 {
			t.Errorf("read %+v, %v; want the onboarding page and no catalog", got, err)
		}
	})
}
