package onboarding

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestUISession(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ui")
	uid := os.Geteuid()
	s := UISession{URL: "http://127.0.0.1:5000/?s=secret", BootID: "boot-1", PID: 42, WrittenAt: time.Now().UTC()}
	if _, err := ReadUISession(dir, uid, "boot-1"); !errors.Is(err, ErrNoSession) {
		t.Fatalf("before writing: %v, want ErrNoSession", err)
	}
	if err := WriteUISession(dir, uid, s); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(sessionPath(dir, uid))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("session file mode %v, want 0600: it carries the page secret", fi.Mode().Perm())
	}
	if di, _ := os.Stat(dir); di.Mode().Perm() != 0o755 {
		t.Errorf("session directory mode %v, want 0755", di.Mode().Perm())
	}
	got, err := ReadUISession(dir, uid, "boot-1")
	if err != nil || got.URL != s.URL || got.PID != 42 {
		t.Fatalf("read = %+v, %v", got, err)
	}
	t.Run("earlier boot", func(t *testing.T) {
		if _, err := ReadUISession(dir, uid, "boot-2"); !errors.Is(err, ErrStaleSession) {
			t.Errorf("other boot: %v, want ErrStaleSession", err)
		}
	})
	t.Run("removed", func(t *testing.T) {
		if err := RemoveUISession(dir, uid); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadUISession(dir, uid, "boot-1"); !errors.Is(err, ErrNoSession) {
			t.Errorf("after removal: %v, want ErrNoSession", err)
		}
		if err := RemoveUISession(dir, uid); err != nil {
			t.Errorf("second removal: %v", err)
		}
	})
	t.Run("directory is a link", func(t *testing.T) {
		link := filepath.Join(t.TempDir(), "link")
		os.Symlink(t.TempDir(), link)
		if err := WriteUISession(link, uid, s); err == nil {
			t.Error("wrote through a symbolic link")
		}
	})
}
