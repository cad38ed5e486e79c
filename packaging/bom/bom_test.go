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

func TestRoundTripManyPathsSpansLeaves(t *testing.T) {
	mt := time.Unix(1, 0)
	in := []Entry{{Path: ".", Mode: fs.ModeDir | 0o755, ModTime: mt}}
	for i := range 1500 { // more than one 4096-byte leaf holds
		in = append(in, Entry{Path: fmt.Sprintf("./f%04d", i), Mode: 0o644, ModTime: mt, Size: uint64(i)})
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
	for i := range in {
		if out[i].Path != in[i].Path || out[i].Size != in[i].Size {
			t.Fatalf("entry %d: got %s/%d want %s/%d", i, out[i].Path, out[i].Size, in[i].Path, in[i].Size)
		}
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
