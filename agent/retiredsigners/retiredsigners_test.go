package retiredsigners

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var (
	fpA = strings.Repeat("a", 64)
	fpB = strings.Repeat("b", 64)
)

// The set only grows, and what it holds survives a reopen (an agent
// restart) in a file only its owner reads.
func TestSetOnlyGrowsAndPersists(t *testing.T) {
	path := filepath.Join(t.TempDir(), "retired-signers.json")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name string
		add  []string
		new  int
		want []string
	}{
		{"first retirement", []string{fpA}, 1, []string{fpA}},
		{"an answer without the list", nil, 0, []string{fpA}},
		{"an older answer listing another", []string{fpB}, 1, []string{fpA, fpB}},
		{"the same list again", []string{fpB, fpA}, 0, []string{fpA, fpB}},
	}
	for _, st := range steps {
		n, err := s.Add(st.add)
		if err != nil || n != st.new {
			t.Fatalf("%s: Add = %d, %v; want %d new", st.name, n, err, st.new)
		}
		reopened, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, fp := range []string{fpA, fpB} {
			if want := slices.Contains(st.want, fp); s.Has(fp) != want || reopened.Has(fp) != want {
				t.Fatalf("%s: %s held %t, reopened %t; want %t", st.name, fp[:4], s.Has(fp), reopened.Has(fp), want)
			}
		}
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600", fi.Mode().Perm())
	}
}

// A malformed list changes nothing, and a damaged file does not open as
// an empty set, which would trust the retired again.
func TestBadInputChangesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "retired-signers.json")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Add([]string{fpA, "not a fingerprint"}); err == nil {
		t.Fatal("a malformed list was kept")
	}
	if s.Has(fpA) {
		t.Fatal("a malformed list added its valid entries")
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("a malformed list wrote the file: %v", err)
	}
	if err := os.WriteFile(path, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path); err == nil {
		t.Fatal("a damaged file opened as an empty set")
	}
	var none *Set
	if none.Has(fpA) {
		t.Fatal("a nil set retired something")
	}
}
