package atomicfile

import (
	"os"
	"path/filepath"
	"testing"
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
