package uninstall

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// handOffPlatform records what Detach asks of a service manager.
type handOffPlatform struct {
	Offline
	job HandOff
	ran []Command
}

func (p *handOffPlatform) HandOff(argv []string) (HandOff, error) {
	j := p.job
	j.Commands = append(slices.Clone(j.Commands), append(Command{"submit"}, argv...))
	return j, nil
}

func (p *handOffPlatform) Run(_ context.Context, c Command) error {
	p.ran = append(p.ran, c)
	return nil
}

func TestDetach(t *testing.T) {
	root := t.TempDir()
	p := &handOffPlatform{job: HandOff{Files: map[string][]byte{HandOffPlistPath: []byte("<plist/>")}}}
	argv := []string{"/Library/MobileAtWork/bin/mobileatwork", "uninstall", "--after", "15s"}
	if err := Detach(context.Background(), p, root, argv); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, HandOffPlistPath))
	if err != nil || string(b) != "<plist/>" {
		t.Fatalf("job file = %q, %v", b, err)
	}
	if fi, _ := os.Stat(filepath.Join(root, HandOffPlistPath)); fi.Mode().Perm() != 0o644 {
		t.Errorf("job file mode %v, want 0644 (launchd refuses group/world-writable plists)", fi.Mode().Perm())
	}
	if len(p.ran) != 1 || !slices.Equal(p.ran[0][1:], argv) {
		t.Fatalf("ran %q, want the hand-off of %q", p.ran, argv)
	}
	if !slices.Contains(DarwinLayout().JobFiles, HandOffPlistPath) {
		t.Error("the uninstall does not remove the hand-off job's plist")
	}
}

func TestDetachRefuses(t *testing.T) {
	if err := Detach(context.Background(), Offline{}, t.TempDir(), []string{"/bin/true"}); !errors.Is(err, ErrNoServiceManager) {
		t.Errorf("offline platform: %v, want ErrNoServiceManager", err)
	}
	p := &handOffPlatform{}
	if err := Detach(context.Background(), p, t.TempDir(), []string{"mobileatwork", "uninstall"}); err == nil || len(p.ran) != 0 {
		t.Errorf("relative program accepted: %v, ran %q", err, p.ran)
	}
}
