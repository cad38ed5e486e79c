package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/cas"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// oldLayout is a data directory as servers before the file store left it:
// a tenant whose scripts, app PKG and images live in DATA/blobs and
// DATA/apps under their old names, with no DATA/files.
type oldLayout struct {
	dir     string
	script  store.Script // at version 2
	app     store.App
	icon    store.Image
	allOld  map[string][]byte // old path, relative to dir -> content
	digests []string          // every digest the database names
}

func writeOld(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func newOldLayout(t *testing.T) *oldLayout {
	t.Helper()
	ctx := t.Context()
	o := &oldLayout{dir: filepath.Join(t.TempDir(), "data"), allOld: map[string][]byte{}}
	s, err := Init(o.dir, "Old", nil)
	if err != nil {
		t.Fatal(err)
	}
	sc := addScript(t, s, "hello", "echo hi\n")
	if sc, err = s.UpdateScript(ctx, sc.ID, ScriptUpdate{Body: []byte("echo hello\n")}); err != nil {
		t.Fatal(err)
	}
	o.script = sc
	pkg := writeTemp(t, "Tools.pkg", append([]byte("xar!"), bytes.Repeat([]byte("payload"), 1000)...))
	if o.app, err = s.AddApp(ctx, AddAppRequest{Name: "Tools", Kind: protocol.AppKindInHouse, PackageID: "com.example.tools", File: pkg}); err != nil {
		t.Fatal(err)
	}
	icon := writeTemp(t, "icon.png", testPNG)
	info, err := s.SetApp(ctx, o.app.ID, SetAppRequest{Icon: &icon})
	if err != nil {
		t.Fatal(err)
	}
	o.icon = *info.Details.Icon
	// Every file leaves the store for its old place and name.
	for v := 1; v <= sc.Version; v++ {
		sv, err := s.Store.ScriptVersion(ctx, sc.ID, v)
		if err != nil {
			t.Fatal(err)
		}
		name := sc.ID
		if v > 1 {
			name = fmt.Sprintf("%s-v%d", sc.ID, v)
		}
		o.moveOut(t, s, sv.BlobSHA256, filepath.Join(legacyBlobsDir, name+".blob"))
	}
	o.moveOut(t, s, o.app.FileSHA256, filepath.Join(legacyAppsDir, o.app.ID+".pkg"))
	o.moveOut(t, s, o.icon.SHA256, filepath.Join(legacyAppsDir, o.app.ID, o.icon.SHA256))
	s.Close()
	if err := os.RemoveAll(filepath.Join(o.dir, filesDir)); err != nil {
		t.Fatal(err)
	}
	return o
}

func (o *oldLayout) moveOut(t *testing.T, s *Server, sum, rel string) {
	t.Helper()
	b, err := s.Files.Get(sum, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	writeOld(t, filepath.Join(o.dir, rel), b)
	o.allOld[rel] = b
	o.digests = append(o.digests, sum)
}

// check opens the directory and finds every file the database names in the
// store, and no old file left.
func (o *oldLayout) check(t *testing.T) *Server {
	t.Helper()
	s, err := Open(o.dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	for rel, b := range o.allOld {
		sum := protocol.SHA256Hex(b)
		if got, err := s.Files.Get(sum, 1<<30); err != nil || !bytes.Equal(got, b) {
			t.Errorf("%s in the store: %d bytes, %v", rel, len(got), err)
		}
		if _, err := os.Stat(filepath.Join(o.dir, rel)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s still there after the move: %v", rel, err)
		}
	}
	got := storedFiles(t, s)
	slices.Sort(got)
	want := slices.Clone(o.digests)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("store holds %v, want %v", got, want)
	}
	for _, d := range []string{legacyBlobsDir, legacyAppsDir} {
		if _, err := os.Stat(filepath.Join(o.dir, d)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("old directory %s kept once empty: %v", d, err)
		}
	}
	return s
}

func TestOpenMovesTheOldLayoutIntoTheFileStore(t *testing.T) {
	tests := []struct {
		name string
		// before runs on the old layout, as a crash or another process left it.
		before func(t *testing.T, o *oldLayout)
	}{
		{"old layout", func(*testing.T, *oldLayout) {}},
		{"crash after copying, before removing", func(t *testing.T, o *oldLayout) {
			// Every file copied already, none removed yet.
			for _, b := range o.allOld {
				sum := protocol.SHA256Hex(b)
				writeOld(t, filepath.Join(o.dir, filesDir, sum[:2], sum), b)
			}
		}},
		{"crash halfway through", func(t *testing.T, o *oldLayout) {
			// One file moved, its old copy gone; the others untouched.
			rel := filepath.Join(legacyAppsDir, o.app.ID+".pkg")
			b := o.allOld[rel]
			writeOld(t, filepath.Join(o.dir, filesDir, o.app.FileSHA256[:2], o.app.FileSHA256), b)
			os.Remove(filepath.Join(o.dir, rel))
		}},
		{"a torn copy in the store", func(t *testing.T, o *oldLayout) {
			sum := o.script.BlobSHA256
			writeOld(t, filepath.Join(o.dir, filesDir, sum[:2], sum), []byte("torn"))
		}},
		{"unfinished writes of the old layout", func(t *testing.T, o *oldLayout) {
			tmp := filepath.Join(o.dir, legacyAppsDir, "."+o.app.ID+".tmp-1234")
			writeOld(t, tmp, []byte("half a package"))
			past := t0.AddDate(-1, 0, 0)
			os.Chtimes(tmp, past, past)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOldLayout(t)
			tt.before(t, o)
			s := o.check(t)
			s.Close()
			// Idempotent: the next Open finds nothing to move.
			s = o.check(t)

			// The moved files serve as before: the blob of each version,
			// the package, the icon.
			ctx := t.Context()
			for v := 1; v <= o.script.Version; v++ {
				sv, err := s.Store.ScriptVersion(ctx, o.script.ID, v)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := s.Files.Get(sv.BlobSHA256, protocol.MaxBlobBody); err != nil {
					t.Errorf("blob of version %d: %v", v, err)
				}
			}
			f, err := s.Files.Open(o.app.FileSHA256)
			if err != nil {
				t.Fatalf("package: %v", err)
			}
			f.Close()
			if b, err := s.Files.Get(o.icon.SHA256, maxImage); err != nil || !bytes.Equal(b, testPNG) {
				t.Errorf("icon: %v", err)
			}
		})
	}
}

// Two processes opening the directory at once (the server and an admin
// command) both move files and both succeed.
func TestMoveByTwoAtOnce(t *testing.T) {
	for range 5 {
		o := newOldLayout(t)
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i := range errs {
			wg.Go(func() {
				files, err := cas.Open(filepath.Join(o.dir, filesDir))
				if err == nil {
					err = migrateFiles(o.dir, files)
				}
				errs[i] = err
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		o.check(t)
	}
}

// What the old layout never wrote, and an image whose bytes do not match
// its name, stay where they are; the rest moves, and Open succeeds.
func TestOpenLeavesUnknownFilesInTheOldLayout(t *testing.T) {
	o := newOldLayout(t)
	leave := map[string][]byte{
		filepath.Join(legacyBlobsDir, "notes.txt"):                      []byte("an admin's note"),
		filepath.Join(legacyAppsDir, o.app.ID, protocol.SHA256Hex(nil)): []byte("not empty"),
	}
	for rel, b := range leave {
		writeOld(t, filepath.Join(o.dir, rel), b)
	}
	s, err := Open(o.dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for rel, b := range leave {
		if got, err := os.ReadFile(filepath.Join(o.dir, rel)); err != nil || !bytes.Equal(got, b) {
			t.Errorf("%s: %q, %v; want it left alone", rel, got, err)
		}
	}
	for rel, b := range o.allOld {
		if ok, err := s.Files.Has(protocol.SHA256Hex(b)); !ok || err != nil {
			t.Errorf("%s not moved: %v", rel, err)
		}
	}
	if got := storedFiles(t, s); len(got) != len(o.digests) {
		t.Errorf("store holds %v, want only the files the database names", got)
	}
}

// A backup made before the file store restores, and the next Open moves
// its files into the store.
func TestRestoreOfABackupInTheOldLayout(t *testing.T) {
	o := newOldLayout(t)
	data := filepath.Join(t.TempDir(), "data")
	if err := Restore(data, o.dir); err != nil {
		t.Fatal(err)
	}
	o.dir = data
	s := o.check(t)
	if _, err := s.Store.Script(context.Background(), o.script.ID); err != nil {
		t.Fatalf("script after restore: %v", err)
	}
}

func TestDeleteScriptDeletesBlobsNoOtherVersionNames(t *testing.T) {
	s := newTenant(t)
	ctx := t.Context()
	sc := addScript(t, s, "hello", "echo hi\n")
	v1 := sc.BlobSHA256
	sc, err := s.UpdateScript(ctx, sc.ID, ScriptUpdate{Body: []byte("echo hello\n")})
	if err != nil {
		t.Fatal(err)
	}
	v2 := sc.BlobSHA256
	// Another script whose version names the same file as version 2: the
	// store keeps one file per content.
	other := sc
	other.ID, other.Name = "scr_other", "other"
	if err := s.Store.CreateScript(ctx, other); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeleteScript(ctx, sc.ID); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.Files.Has(v1); ok {
		t.Error("the blob of version 1, which no one names, is kept")
	}
	if ok, _ := s.Files.Has(v2); !ok {
		t.Error("the blob another script names is deleted")
	}
	if _, err := s.DeleteScript(ctx, other.ID); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.Files.Has(v2); ok {
		t.Error("the blob of the last script naming it is kept")
	}
}
