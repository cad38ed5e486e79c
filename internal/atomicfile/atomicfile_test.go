package atomicfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestWriteFileReplacesAndKeepsMode(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "state.json")
	if err := WriteFile(name, []byte("one"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(name, []byte("two"), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(name)
	if err != nil || string(b) != "two" {
		t.Fatalf("content = %q, %v; want two", b, err)
	}
	fi, _ := os.Stat(name)
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode = %v, want 0600", fi.Mode().Perm())
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Fatalf("temp files left behind: %v", ents)
	}
}

func TestWriteFileFailureLeavesOldContent(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "f")
	if err := WriteFile(name, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A target that is a directory cannot be replaced by rename.
	sub := filepath.Join(dir, "sub")
	os.Mkdir(sub, 0o700)
	os.WriteFile(filepath.Join(sub, "x"), nil, 0o600)
	if err := WriteFile(sub, []byte("new"), 0o600); err == nil {
		t.Fatal("writing over a non-empty directory succeeded")
	}
	if b, _ := os.ReadFile(name); string(b) != "old" {
		t.Fatalf("unrelated file changed: %q", b)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 2 {
		t.Fatalf("temp file left behind after failure: %v", ents)
	}
}

func TestJSONRoundTrip(t *testing.T) {
	name := filepath.Join(t.TempDir(), "v.json")
	in := map[string]int{"a": 1}
	if err := WriteJSON(name, in, 0o600); err != nil {
		t.Fatal(err)
	}
	var out map[string]int
	if err := ReadJSON(name, &out); err != nil || out["a"] != 1 {
		t.Fatalf("ReadJSON = %v, %v", out, err)
	}
	os.WriteFile(name, []byte("{"), 0o600)
	if err := ReadJSON(name, &out); err == nil {
		t.Fatal("ReadJSON accepted a torn file")
	}
}

func TestSweep(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	old := now.Add(-time.Hour)
	files := map[string]time.Time{
		".ledger.json.tmp-123": old, // left by a crash: swept
		".r1.json.tmp-456":     now, // a writer at work: kept
		"ledger.json":          old, // real state: kept
		"notes.tmp-789":        old, // not ours: kept
	}
	for name, mt := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mt, mt); err != nil {
			t.Fatal(err)
		}
	}
	n, err := Sweep(dir, 10*time.Minute, now)
	if err != nil || n != 1 {
		t.Fatalf("Sweep = %d, %v; want 1 removed", n, err)
	}
	for name := range files {
		_, err := os.Stat(filepath.Join(dir, name))
		if gone := err != nil; gone != (name == ".ledger.json.tmp-123") {
			t.Errorf("%s: gone = %v", name, gone)
		}
	}
	if n, err := Sweep(filepath.Join(dir, "missing"), time.Minute, now); n != 0 || err != nil {
		t.Fatalf("Sweep of a missing dir = %d, %v", n, err)
	}
	// A real crash leftover: the temp name WriteFile uses is one Sweep knows.
	f, err := os.CreateTemp(dir, ".state.json"+tmpMarker+"*")
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	os.Chtimes(f.Name(), old, old)
	if n, _ := Sweep(dir, 10*time.Minute, now); n != 1 {
		t.Fatalf("WriteFile's temp name not swept")
	}
}

func TestFileCommitNewAbort(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "ca.key")
	f, err := Create(dir, "ca.key", 0o600)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("first"))
	if err := f.CommitNew(name); err != nil {
		t.Fatal(err)
	}
	g, _ := Create(dir, "ca.key", 0o600)
	g.Write([]byte("second"))
	if err := g.CommitNew(name); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("CommitNew over an existing file = %v, want fs.ErrExist", err)
	}
	g.Abort()
	if b, _ := os.ReadFile(name); string(b) != "first" {
		t.Fatalf("CommitNew replaced the file: %q", b)
	}
	h, _ := Create(dir, "x", 0o644)
	h.Write([]byte("never"))
	h.Abort()
	h.Abort() // twice is fine
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Fatalf("temp files left behind: %v", ents)
	}
	if fi, _ := os.Stat(name); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", fi.Mode().Perm())
	}
	// Commit into another directory of the same file system.
	sub := filepath.Join(dir, "ab")
	os.Mkdir(sub, 0o700)
	k, _ := Create(dir, "put", 0o600)
	k.Write([]byte("content"))
	if err := k.Commit(filepath.Join(sub, "id")); err != nil {
		t.Fatal(err)
	}
	k.Abort() // after a commit: no-op
	if b, _ := os.ReadFile(filepath.Join(sub, "id")); string(b) != "content" {
		t.Fatalf("committed content %q", b)
	}
}

// An adopted file is committed over its final name or, aborted, removed.
func TestAdopt(t *testing.T) {
	for _, commit := range []bool{true, false} {
		dir := t.TempDir()
		part, dst := filepath.Join(dir, "a.pkg.partial"), filepath.Join(dir, "a.pkg")
		f, err := os.OpenFile(part, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		af := Adopt(f)
		af.Write([]byte("kept"))
		if commit {
			if err := af.Commit(dst); err != nil {
				t.Fatal(err)
			}
		}
		af.Abort()
		b, err := os.ReadFile(dst)
		if commit && (err != nil || string(b) != "kept") {
			t.Errorf("committed: %q, %v", b, err)
		}
		if !commit && !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("aborted, yet dst is there: %v", err)
		}
		if _, err := os.Stat(part); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("commit=%v: the adopted file stays: %v", commit, err)
		}
	}
}
