package server

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/mobileatwork/mobileatwork/server/cas"
	"github.com/mobileatwork/mobileatwork/server/store/postgres/pgtest"
)

// pgServer inits a PostgreSQL tenant in a new data directory.
func pgServer(t *testing.T) *Server {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	s, err := InitWith(dir, "T", nil, StoreOptions{Backend: BackendPostgres, DSN: pgtest.DSN(t), Openers: pgOpeners()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// replicaDir is a second data directory for the tenant of s holding only
// copies of its keys and store record, as on another machine.
func replicaDir(t *testing.T, s *Server) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "replica")
	if err := copyTree(filepath.Join(s.Data, pkiDir), filepath.Join(dir, pkiDir)); err != nil {
		t.Fatal(err)
	}
	if err := copyStoreRecord(s.Data, dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestPostgresTenantKeepsFilesInTheDatabase(t *testing.T) {
	s := pgServer(t)
	ctx := t.Context()
	sc, err := s.AddScript(ctx, "hello", "", []byte("echo hello\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(s.Data, filesDir)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a PostgreSQL tenant made %s/ in its data directory: %v", filesDir, err)
	}
	blob, err := s.Files.Get(sc.BlobSHA256, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	// Another replica, with only the keys and the record, reads it.
	r, err := OpenWith(replicaDir(t, s), StoreOptions{Openers: pgOpeners()})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if got, err := r.Files.Get(sc.BlobSHA256, 1<<20); err != nil || !bytes.Equal(got, blob) {
		t.Fatalf("the other replica reads %d bytes, %v", len(got), err)
	}
	if len(r.missingFiles) != 0 {
		t.Fatalf("missing files %v, want none", r.missingFiles)
	}

	out := filepath.Join(t.TempDir(), "backup")
	err = s.Backup(ctx, out)
	if err == nil || !strings.Contains(err.Error(), "pg_dump") || !strings.Contains(err.Error(), "files") {
		t.Fatalf("Backup = %v, want one line saying the database holds the files and to use pg_dump", err)
	}
	if _, err := os.Stat(filepath.Join(out, filesDir)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the backup of a PostgreSQL tenant has %s/: %v", filesDir, err)
	}
}

func TestPostgresTenantCopiesInFilesFromTheDataDirectory(t *testing.T) {
	s := pgServer(t)
	ctx := t.Context()
	// A tenant from before: its files in files/, the database without them.
	old, err := cas.Open(filepath.Join(s.Data, filesDir))
	if err != nil {
		t.Fatal(err)
	}
	type file struct {
		name    string
		inTree  func(id string, blob []byte) // puts the tree's copy, if any
		present bool                         // in the database after open
	}
	files := []file{
		{"in files/", func(_ string, b []byte) { old.Put(b) }, true},
		{"nowhere", func(string, []byte) {}, false},
		{"damaged in files/", func(id string, b []byte) {
			p, _ := old.Path(id)
			os.MkdirAll(filepath.Dir(p), 0o700)
			os.WriteFile(p, append(b, '!'), 0o600)
		}, false},
	}
	ids := make([]string, len(files))
	for i, f := range files {
		sc, err := s.AddScript(ctx, "script "+f.name, "", []byte("echo "+f.name+"\n"), nil)
		if err != nil {
			t.Fatal(err)
		}
		blob, err := s.Files.Get(sc.BlobSHA256, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Files.Delete(sc.BlobSHA256); err != nil {
			t.Fatal(err)
		}
		f.inTree(sc.BlobSHA256, blob)
		ids[i] = sc.BlobSHA256
	}
	var wantMissing []string
	for range 2 { // the second open has nothing more to copy
		r, err := OpenWith(s.Data, StoreOptions{Openers: pgOpeners()})
		if err != nil {
			t.Fatal(err)
		}
		wantMissing = wantMissing[:0]
		for i, f := range files {
			ok, err := r.Files.Has(ids[i])
			if err != nil || ok != f.present {
				t.Errorf("%s: in the database %v, %v; want %v", f.name, ok, err, f.present)
			}
			if !f.present {
				wantMissing = append(wantMissing, ids[i])
				if _, err := r.Files.Get(ids[i], 1<<20); !errors.Is(err, cas.ErrNotFound) {
					t.Errorf("%s: Get = %v, want ErrNotFound", f.name, err)
				}
			}
		}
		if !sameStrings(r.missingFiles, wantMissing) {
			t.Errorf("missing files %v, want %v", r.missingFiles, wantMissing)
		}
		r.Close()
	}
	// The tree is left as it was, for other replicas' sake.
	if ok, _ := old.Has(ids[0]); !ok {
		t.Error("the copied file was removed from files/")
	}

	core, logs := observer.New(zapcore.WarnLevel)
	s.Log, s.missingFiles = zap.New(core), wantMissing
	s.warnMissingFiles()
	if got := logs.All(); len(got) != 1 || !strings.Contains(got[0].Message, "2 files") ||
		!strings.Contains(got[0].Message, wantMissing[0]) || !strings.Contains(got[0].Message, wantMissing[1]) {
		t.Fatalf("warnings %v, want one naming both missing files", got)
	}
}

func sameStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[string]bool{}
	for _, s := range a {
		seen[s] = true
	}
	for _, s := range b {
		if !seen[s] {
			return false
		}
	}
	return true
}
