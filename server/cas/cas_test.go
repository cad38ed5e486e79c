package cas

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
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

func TestPutGetHasDelete(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16)
	tests := []struct {
		name    string
		content []byte
		stream  bool
	}{
		{"small", []byte("sealed blob"), false},
		{"empty", nil, false},
		{"streamed", big, true},
		{"streamed empty", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			if fi, err := os.Stat(s.root); err != nil || fi.Mode().Perm() != 0o700 {
				t.Fatalf("root: %v %v, want mode 0700", fi, err)
			}
			want := digest(tt.content)
			var id string
			var err error
			if tt.stream {
				var size int64
				id, size, err = s.PutFrom(bytes.NewReader(tt.content))
				if size != int64(len(tt.content)) {
					t.Fatalf("PutFrom size %d, want %d", size, len(tt.content))
				}
			} else {
				id, err = s.Put(tt.content)
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
			got, err := s.Get(id, int64(len(tt.content)))
			if err != nil || !bytes.Equal(got, tt.content) {
				t.Fatalf("Get = %d bytes, %v", len(got), err)
			}
			f, err := s.Open(id)
			if err != nil {
				t.Fatal(err)
			}
			streamed, _ := io.ReadAll(f)
			f.Close()
			if !bytes.Equal(streamed, tt.content) {
				t.Fatal("Open streams other bytes")
			}
			if ok, err := s.Has(id); !ok || err != nil {
				t.Fatalf("Has = %v, %v", ok, err)
			}
			if err := s.Delete(id); err != nil {
				t.Fatal(err)
			}
			if ok, err := s.Has(id); ok || err != nil {
				t.Fatalf("Has after Delete = %v, %v", ok, err)
			}
			if _, err := s.Get(id, 1<<30); !errors.Is(err, ErrNotFound) {
				t.Fatalf("Get after Delete = %v, want ErrNotFound", err)
			}
			if _, err := s.Open(id); !errors.Is(err, ErrNotFound) {
				t.Fatalf("Open after Delete = %v, want ErrNotFound", err)
			}
			if err := s.Delete(id); err != nil {
				t.Fatalf("Delete of a missing file = %v, want nil", err)
			}
		})
	}
}

func TestBadIDsRefused(t *testing.T) {
	s := newStore(t)
	id, err := s.Put([]byte("kept"))
	if err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(filepath.Dir(s.root), "secret")
	os.WriteFile(outside, []byte("outside the store"), 0o600)
	for _, bad := range []string{
		"",
		"../secret",
		"../../../../etc/passwd",
		id[:2] + "/" + id[3:],
		"/" + id[1:],
		id[:63],
		id + "0",
		strings.ToUpper(id),
		strings.Repeat("g", 64),
		"scr_0123456789abcdef",
		"scr_0123456789abcdef-v2",
		id[:62] + "\x00a",
	} {
		t.Run(bad, func(t *testing.T) {
			if ValidID(bad) {
				t.Fatal("ValidID accepts it")
			}
			if _, err := s.Path(bad); !errors.Is(err, ErrNotFound) {
				t.Errorf("Path = %v, want ErrNotFound", err)
			}
			if _, err := s.Get(bad, 1<<20); !errors.Is(err, ErrNotFound) {
				t.Errorf("Get = %v, want ErrNotFound", err)
			}
			if _, err := s.Open(bad); !errors.Is(err, ErrNotFound) {
				t.Errorf("Open = %v, want ErrNotFound", err)
			}
			if ok, err := s.Has(bad); ok || !errors.Is(err, ErrNotFound) {
				t.Errorf("Has = %v, %v; want false, ErrNotFound", ok, err)
			}
			if err := s.Delete(bad); !errors.Is(err, ErrNotFound) {
				t.Errorf("Delete = %v, want ErrNotFound", err)
			}
			if bad == "" {
				return // MoveIn takes "" for any digest
			}
			if _, err := s.MoveIn(outside, bad); !errors.Is(err, ErrNotFound) {
				t.Errorf("MoveIn with it as the digest = %v, want ErrNotFound", err)
			}
		})
	}
	if _, err := os.Stat(outside); err != nil {
		t.Fatalf("a file outside the store is gone: %v", err)
	}
	if ok, _ := s.Has(id); !ok {
		t.Fatal("the stored file is gone")
	}
}

func TestGetLimit(t *testing.T) {
	s := newStore(t)
	b := bytes.Repeat([]byte{7}, 1000)
	id, err := s.Put(b)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		limit int64
		want  error
	}{
		{1000, nil},
		{1 << 20, nil},
		{999, ErrTooLarge},
		{0, ErrTooLarge},
	}
	for _, tt := range tests {
		got, err := s.Get(id, tt.limit)
		if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
			t.Errorf("Get(limit %d) = %v, want %v", tt.limit, err, tt.want)
		}
		if tt.want == nil && !bytes.Equal(got, b) {
			t.Errorf("Get(limit %d) = %d bytes", tt.limit, len(got))
		}
	}
}

func TestConcurrentPutOfTheSameContent(t *testing.T) {
	s := newStore(t)
	body := bytes.Repeat([]byte("same package "), 50000)
	want := digest(body)
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for i := range 32 {
		wg.Go(func() {
			var id string
			var err error
			if i%2 == 0 {
				id, err = s.Put(body)
			} else {
				id, _, err = s.PutFrom(bytes.NewReader(body))
			}
			if err == nil && id != want {
				err = errors.New("id " + id)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if got := files(t, s); len(got) != 1 {
		t.Fatalf("files in the store %v, want one and no temporary file", got)
	}
	if got, err := s.Get(want, int64(len(body))); err != nil || !bytes.Equal(got, body) {
		t.Fatalf("Get = %d bytes, %v", len(got), err)
	}
}

func TestPutFromFailureLeavesNothing(t *testing.T) {
	s := newStore(t)
	r := io.MultiReader(strings.NewReader("half a package"), errReader{})
	if _, _, err := s.PutFrom(r); err == nil {
		t.Fatal("PutFrom of a failing reader succeeded")
	}
	if got := files(t, s); len(got) != 0 {
		t.Fatalf("left behind: %v", got)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("disk went away") }

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
