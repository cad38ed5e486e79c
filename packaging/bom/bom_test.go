package bom

import (
	"errors"
	"fmt"
	"io/fs"
	"reflect"
	"testing"
	"time"
)

func TestCksumMatchesPOSIX(t *testing.T) {
	// Values printed by `cksum` for the same input.
	tests := []struct {
		in   string
		want uint32
	}{
		{"", 4294967295},
		{"hello\n", 3015617425},
		{"123456789", 930766865},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%q", tc.in), func(t *testing.T) {
			if got := Cksum([]byte(tc.in)); got != tc.want {
				t.Errorf("Cksum = %d, want %d", got, tc.want)
			}
		})
	}
}

func sampleEntries() []Entry {
	mt := time.Unix(1700000000, 0)
	bin := []byte("binary contents")
	return []Entry{
		{Path: ".", Mode: fs.ModeDir | 0o755, ModTime: mt},
		{Path: "./Library", Mode: fs.ModeDir | 0o755, ModTime: mt},
		{Path: "./Library/MobileAtWork", Mode: fs.ModeDir | 0o755, ModTime: mt},
		{Path: "./Library/MobileAtWork/bin", Mode: fs.ModeDir | 0o755, ModTime: mt},
		{Path: "./Library/MobileAtWork/bin/mobileatwork", Mode: 0o755, ModTime: mt, Size: uint64(len(bin)), Checksum: Cksum(bin)},
		{Path: "./Library/MobileAtWork/current", Mode: fs.ModeSymlink | 0o755, ModTime: mt, Size: 3, Checksum: Cksum([]byte("bin")), LinkTarget: "bin"},
		{Path: "./Library/LaunchDaemons", Mode: fs.ModeDir | 0o755, ModTime: mt, UID: 0, GID: 0},
		{Path: "./Library/LaunchDaemons/x.plist", Mode: 0o644, ModTime: mt, Size: 1, Checksum: 7, UID: 501, GID: 20},
	}
}

func TestRoundTrip(t *testing.T) {
	in := sampleEntries()
	b, err := Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if string(b[:8]) != "BOMStore" {
		t.Fatalf("magic %q", b[:8])
	}
	out, err := Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	byPath := map[string]Entry{}
	for _, e := range out {
		byPath[e.Path] = e
	}
	if len(out) != len(in) {
		t.Fatalf("read %d entries, wrote %d", len(out), len(in))
	}
	for _, want := range in {
		t.Run(want.Path, func(t *testing.T) {
			got, ok := byPath[want.Path]
			if !ok {
				t.Fatal("missing")
			}
			if !got.ModTime.Equal(want.ModTime) {
				t.Errorf("mtime %v, want %v", got.ModTime, want.ModTime)
			}
			got.ModTime, want.ModTime = time.Time{}, time.Time{}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %+v\nwant %+v", got, want)
			}
		})
	}
	if out[0].Path != "." {
		t.Errorf("first entry %q, want the root", out[0].Path)
	}
}

// nestedEntries is a tree of dirs directories of files files each, named
// so that depth-first id order and key order differ: "a" sorts before
// "b/..." by path but "b" (a directory) gets its id first under the root.
func nestedEntries(dirs, files int) []Entry {
	mt := time.Unix(1, 0)
	out := []Entry{{Path: ".", Mode: fs.ModeDir | 0o755, ModTime: mt}}
	for d := range dirs {
		dir := fmt.Sprintf("./d%02d", d)
		out = append(out, Entry{Path: dir, Mode: fs.ModeDir | 0o755, ModTime: mt})
		for f := range files {
			out = append(out, Entry{Path: fmt.Sprintf("%s/f%03d", dir, f), Mode: 0o644, ModTime: mt, Size: uint64(d*1000 + f)})
		}
		out = append(out, Entry{Path: fmt.Sprintf("./z%02d", d), Mode: 0o644, ModTime: mt, Size: uint64(d)})
	}
	return out
}

// leafKeys walks the Paths tree's leaf chain and returns every leaf's keys;
// it checks on the way that each index pair names its child's last key.
func leafKeys(t *testing.T, b []byte) [][]string {
	t.Helper()
	r, tree, err := open(b)
	if err != nil {
		t.Fatal(err)
	}
	root, _, err := r.treeRoot(tree)
	if err != nil {
		t.Fatal(err)
	}
	key := func(p [2]uint32) string {
		parent, name, err := r.file(p[1])
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("%08d/%s", parent, name)
	}
	leaf, pairs, err := r.node(root)
	if err != nil {
		t.Fatal(err)
	}
	first := root
	if !leaf {
		first = pairs[0][0]
		for _, ip := range pairs {
			_, child, err := r.node(ip[0])
			if err != nil {
				t.Fatal(err)
			}
			if got, want := key(ip), key(child[len(child)-1]); got != want {
				t.Errorf("index pair names key %s, its leaf ends with %s", got, want)
			}
		}
	}
	var leaves [][]string
	for at := first; at != 0; {
		_, pairs, err := r.node(at)
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, p := range pairs {
			keys = append(keys, key(p))
		}
		leaves = append(leaves, keys)
		n, _ := r.block(at)
		at = be.Uint32(n[4:])
	}
	return leaves
}

func TestPathsLeavesAreInKeyOrder(t *testing.T) {
	for _, tc := range []struct {
		name    string
		entries []Entry
		leaves  int
	}{
		{"sample", sampleEntries(), 1},
		{"1500 paths", nestedEntries(30, 48), 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Marshal(tc.entries)
			if err != nil {
				t.Fatal(err)
			}
			leaves := leafKeys(t, b)
			if len(leaves) != tc.leaves {
				t.Errorf("%d leaves, want %d", len(leaves), tc.leaves)
			}
			var prev string
			total := 0
			for i, keys := range leaves {
				for _, k := range keys {
					// Zero-padded parent ids make string order key order.
					if k <= prev {
						t.Fatalf("leaf %d: key %s after %s", i, k, prev)
					}
					prev = k
				}
				total += len(keys)
			}
			if total != len(tc.entries) {
				t.Errorf("leaves hold %d keys, want %d", total, len(tc.entries))
			}
		})
	}
}

func TestLookupByKeyFindsEveryPath(t *testing.T) {
	for _, tc := range []struct {
		name    string
		entries []Entry
	}{
		{"sample", sampleEntries()},
		{"1500 paths across leaves", nestedEntries(30, 48)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Marshal(tc.entries)
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range tc.entries {
				got, err := Lookup(b, want.Path)
				if err != nil {
					t.Fatalf("lookup %s: %v", want.Path, err)
				}
				got.ModTime, want.ModTime = time.Time{}, time.Time{}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("lookup %s: got %+v", want.Path, got)
				}
			}
			for _, missing := range []string{"./nope", "./d00/nope", "./d99/f000", "./z99"} {
				if _, err := Lookup(b, missing); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("lookup %s: %v, want fs.ErrNotExist", missing, err)
				}
			}
			if _, err := Lookup(b, "/etc/passwd"); err == nil || errors.Is(err, fs.ErrNotExist) {
				t.Errorf("lookup of a malformed path: %v", err)
			}
		})
	}
}

func TestRoundTripManyPathsSpansLeaves(t *testing.T) {
	in := nestedEntries(30, 48)
	if len(in) != 1501 {
		t.Fatalf("%d entries", len(in))
	}
	b, err := Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != len(in) {
		t.Fatalf("read %d, want %d", len(out), len(in))
	}
	byPath := map[string]Entry{}
	for _, e := range out {
		byPath[e.Path] = e
	}
	for _, e := range in {
		if got, ok := byPath[e.Path]; !ok || got.Size != e.Size {
			t.Fatalf("%s: got %+v", e.Path, got)
		}
	}
}

func TestBomInfoCountsPathsPlusOne(t *testing.T) {
	b, err := Marshal(sampleEntries())
	if err != nil {
		t.Fatal(err)
	}
	r, _, err := open(b)
	if err != nil {
		t.Fatal(err)
	}
	vars := b[be.Uint32(b[24:]):]
	// BomInfo is the first variable.
	info, err := r.block(be.Uint32(vars[4:]))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := be.Uint32(info[4:]), uint32(len(sampleEntries())+1); got != want {
		t.Errorf("numberOfPaths %d, want %d", got, want)
	}
}

func TestMarshalRejects(t *testing.T) {
	mt := time.Unix(1, 0)
	root := Entry{Path: ".", Mode: fs.ModeDir | 0o755, ModTime: mt}
	tests := []struct {
		name    string
		entries []Entry
	}{
		{"missing parent", []Entry{root, {Path: "./a/b", Mode: 0o644}}},
		{"parent is a file", []Entry{root, {Path: "./a", Mode: 0o644}, {Path: "./a/b", Mode: 0o644}}},
		{"absolute path", []Entry{root, {Path: "/etc", Mode: 0o644}}},
		{"dot-dot", []Entry{root, {Path: "./../x", Mode: 0o644}}},
		{"duplicate", []Entry{root, {Path: "./a", Mode: 0o644}, {Path: "./a", Mode: 0o644}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Marshal(tc.entries); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func TestUnmarshalRejectsDamage(t *testing.T) {
	good, err := Marshal(sampleEntries())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		mutate func([]byte) []byte
	}{
		{"empty", func([]byte) []byte { return nil }},
		{"bad magic", func(b []byte) []byte { b[0] = 'X'; return b }},
		{"truncated", func(b []byte) []byte { return b[:len(b)/2] }},
		{"table offset past end", func(b []byte) []byte { be.PutUint32(b[16:], 1<<30); return b }},
		{"leaf out of key order", swapFirstLeafPairs},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.mutate(append([]byte(nil), good...))
			if _, err := Unmarshal(b); !errors.Is(err, ErrFormat) {
				t.Fatalf("got %v, want ErrFormat", err)
			}
		})
	}
}

// swapFirstLeafPairs exchanges the first two pairs of the Paths root leaf.
func swapFirstLeafPairs(b []byte) []byte {
	r, tree, err := open(b)
	if err != nil {
		panic(err)
	}
	root, _, _ := r.treeRoot(tree)
	off := r.blocks[root][0] + nodeHeaderSize
	var tmp [8]byte
	copy(tmp[:], b[off:])
	copy(b[off:off+8], b[off+8:off+16])
	copy(b[off+8:], tmp[:])
	return b
}
