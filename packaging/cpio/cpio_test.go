package cpio

import (
	"bytes"
	"errors"
	"io/fs"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// parsed is one member decoded by the test's own odc reader.
type parsed struct {
	name     string
	mode     uint64
	uid, gid uint64
	mtime    int64
	data     string
}

func readODC(t *testing.T, b []byte) []parsed {
	t.Helper()
	var out []parsed
	for {
		if len(b) < 76 || string(b[:6]) != "070707" {
			t.Fatalf("bad header at %q", b[:min(len(b), 16)])
		}
		num := func(off, n int) uint64 {
			v, err := strconv.ParseUint(string(b[off:off+n]), 8, 64)
			if err != nil {
				t.Fatalf("field at %d: %v", off, err)
			}
			return v
		}
		p := parsed{mode: num(18, 6), uid: num(24, 6), gid: num(30, 6), mtime: int64(num(48, 11))}
		nameLen, size := int(num(59, 6)), int(num(65, 11))
		p.name = string(b[76 : 76+nameLen-1])
		p.data = string(b[76+nameLen : 76+nameLen+size])
		b = b[76+nameLen+size:]
		if p.name == "TRAILER!!!" {
			if len(b) != 0 {
				t.Fatalf("%d bytes after trailer", len(b))
			}
			return out
		}
		out = append(out, p)
	}
}

func sample(t *testing.T) []byte {
	t.Helper()
	mt := time.Unix(1700000000, 0)
	var buf bytes.Buffer
	w := NewWriter(&buf)
	for _, e := range []Entry{
		{Name: ".", Mode: fs.ModeDir | 0o755, ModTime: mt},
		{Name: "./bin", Mode: fs.ModeDir | 0o755, ModTime: mt},
		{Name: "./bin/tool", Mode: 0o755, ModTime: mt, Data: []byte("#!/bin/sh\necho hi\n")},
		{Name: "./bin/link", Mode: fs.ModeSymlink | 0o755, ModTime: mt, Data: []byte("tool")},
	} {
		if err := w.WriteEntry(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestWriterRoundTrip(t *testing.T) {
	got := readODC(t, sample(t))
	want := []parsed{
		{".", 0o040755, 0, 0, 1700000000, ""},
		{"./bin", 0o040755, 0, 0, 1700000000, ""},
		{"./bin/tool", 0o100755, 0, 0, 1700000000, "#!/bin/sh\necho hi\n"},
		{"./bin/link", 0o120755, 0, 0, 1700000000, "tool"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d entries, want %d", len(got), len(want))
	}
	for i := range want {
		t.Run(want[i].name, func(t *testing.T) {
			if got[i] != want[i] {
				t.Errorf("got %+v, want %+v", got[i], want[i])
			}
		})
	}
}

func TestSystemCpioListsRootOwnedEntries(t *testing.T) {
	if _, err := exec.LookPath("cpio"); err != nil {
		t.Skip("cpio not installed (Debian package cpio)")
	}
	cmd := exec.Command("cpio", "-itv", "--quiet")
	cmd.Stdin = bytes.NewReader(sample(t))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("cpio -itv: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 4 {
		t.Fatalf("cpio listed %d entries:\n%s", len(lines), out)
	}
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) < 4 || f[2] != "root" || f[3] != "root" {
			t.Errorf("entry not root-owned: %q", l)
		}
	}
	if !strings.HasPrefix(lines[2], "-rwxr-xr-x") || !strings.HasPrefix(lines[3], "lrwxr-xr-x") {
		t.Errorf("modes wrong:\n%s", out)
	}
}

func TestWriterRejects(t *testing.T) {
	tests := []struct {
		name string
		e    Entry
		want error
	}{
		{"negative uid", Entry{Name: "./x", Mode: 0o644, UID: -1}, ErrFieldOverflow},
		{"uid too large", Entry{Name: "./x", Mode: 0o644, UID: 1 << 20}, ErrFieldOverflow},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := NewWriter(&bytes.Buffer{}).WriteEntry(tc.e)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	if err := NewWriter(&bytes.Buffer{}).WriteEntry(Entry{Name: "./d", Mode: fs.ModeDir | 0o755, Data: []byte("x")}); err == nil {
		t.Error("directory with data accepted")
	}
}
