package cas

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func digest(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func newStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "files"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// files lists the regular files below the root, temporary ones included.
func files(t *testing.T, s *Store) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(s.root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			rel, _ := filepath.Rel(s.root, p)
			out = append(out, rel)
		}
		return nil
	})
	return out
}

// TestLayout checks what the shared tests cannot see: where a file lands
// in the tree and with which modes.
func TestLayout(t *testing.T) {
	for _, stream := range []bool{false, true} {
		s := newStore(t)
		if fi, err := os.Stat(s.root); err != nil || fi.Mode().Perm() != 0o700 {
			t.Fatalf("root: %v %v, want mode 0700", fi, err)
		}
		content := []byte("sealed blob")
		want := digest(content)
		var id string
		var err error
		if stream {
			id, _, err = s.PutFrom(bytes.NewReader(content), "")
		} else {
			id, err = s.Put(content)
		}
		if err != nil || id != want {
			t.Fatalf("put = %s, %v; want %s", id, err, want)
		}
		if got := files(t, s); len(got) != 1 || got[0] != filepath.Join(want[:2], want) {
			t.Fatalf("files in the store %v, want %s/%s alone", got, want[:2], want)
		}
		p, _ := s.Path(id)
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("stored file: %v %v, want mode 0600", fi, err)
		}
		if fi, err := os.Stat(filepath.Dir(p)); err != nil || fi.Mode().Perm() != 0o700 {
			t.Fatalf("fan-out dir: %v %v, want mode 0700", fi, err)
		}
	}
}

func TestBadIDsStayInTheTree(t *testing.T) {
	s := newStore(t)
	outside := filepath.Join(filepath.Dir(s.root), "secret")
	os.WriteFile(outside, []byte("outside the store"), 0o600)
	for _, bad := range []string{"../secret", "/" + strings.Repeat("a", 63), strings.Repeat("a", 63)} {
		if _, err := s.Path(bad); !errors.Is(err, ErrNotFound) {
			t.Errorf("Path(%q) = %v, want ErrNotFound", bad, err)
		}
		if _, err := s.MoveIn(outside, bad); !errors.Is(err, ErrNotFound) {
			t.Errorf("MoveIn with %q as the digest = %v, want ErrNotFound", bad, err)
		}
		s.Delete(bad)
	}
	if _, err := os.Stat(outside); err != nil {
		t.Fatalf("a file outside the store is gone: %v", err)
	}
}

func TestMoveIn(t *testing.T) {
	body := []byte("an old blob")
	id := digest(body)
	tests := []struct {
		name      string
		want      string
		inStore   []byte // what the store already holds under id
		err       error
		srcRemain bool
	}{
		{"new file", "", nil, nil, false},
		{"with the right digest", id, nil, nil, false},
		{"already copied before a crash", "", body, nil, false},
		{"a bad copy in the store is replaced", "", []byte("torn"), nil, false},
		{"wrong digest", digest([]byte("other")), nil, ErrDigest, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			if tt.inStore != nil {
				p, _ := s.Path(id)
				os.MkdirAll(filepath.Dir(p), 0o700)
				os.WriteFile(p, tt.inStore, 0o600)
			}
			src := filepath.Join(t.TempDir(), "scr_1.blob")
			os.WriteFile(src, body, 0o600)
			got, err := s.MoveIn(src, tt.want)
			if !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
				t.Fatalf("MoveIn = %s, %v; want %v", got, err, tt.err)
			}
			if _, err := os.Stat(src); (err == nil) != tt.srcRemain {
				t.Fatalf("source after MoveIn: %v, want kept %v", err, tt.srcRemain)
			}
			if tt.err != nil {
				if n := len(files(t, s)); n != 0 {
					t.Fatalf("%d files stored after a refusal", n)
				}
				return
			}
			if got != id {
				t.Fatalf("MoveIn = %s, want %s", got, id)
			}
			if b, err := s.Get(id, 100); err != nil || !bytes.Equal(b, body) {
				t.Fatalf("stored %q, %v", b, err)
			}
			// Again, as after a crash or by a second process: nothing to do.
			if _, err := s.MoveIn(src, tt.want); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("MoveIn of a moved file = %v, want ErrNotExist", err)
			}
		})
	}
}

func TestOpenSweepsStaleWrites(t *testing.T) {
	root := filepath.Join(t.TempDir(), "files")
	os.MkdirAll(root, 0o700)
	old := filepath.Join(root, ".put.tmp-123")
	fresh := filepath.Join(root, ".put.tmp-456")
	os.WriteFile(old, []byte("torn"), 0o600)
	os.WriteFile(fresh, []byte("being written"), 0o600)
	past := time.Now().Add(-2 * staleTemp)
	os.Chtimes(old, past, past)
	if _, err := Open(root); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(old); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("stale write kept: %v", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Fatalf("a write in progress was removed: %v", err)
	}
}
