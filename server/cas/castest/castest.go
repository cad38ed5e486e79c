// Package castest is the behaviour every cas.Blobs implementation shares,
// run by each implementation's tests against a fresh store.
package castest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/mobileatwork/mobileatwork/server/cas"
)

// Impl is one implementation under test.
type Impl struct {
	// New returns an empty store, released at the end of t.
	New func(t *testing.T) cas.Blobs
	// Stored counts the contents b holds plus its unfinished writes: a
	// refused or failed write must leave it unchanged.
	Stored func(t *testing.T, b cas.Blobs) int
}

// Big is larger than the PostgreSQL backend's chunk, and not a multiple of
// it, so that streaming and seeking cross chunk boundaries.
var Big = bytes.Repeat([]byte("0123456789abcdef"), 5<<16+3)

// Digest is the id of b.
func Digest(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// Run runs the shared tests.
func Run(t *testing.T, im Impl) {
	t.Run("PutGetHasDelete", func(t *testing.T) { testPutGetHasDelete(t, im) })
	t.Run("Seek", func(t *testing.T) { testSeek(t, im) })
	t.Run("BadIDs", func(t *testing.T) { testBadIDs(t, im) })
	t.Run("GetLimit", func(t *testing.T) { testGetLimit(t, im) })
	t.Run("DigestMismatch", func(t *testing.T) { testDigestMismatch(t, im) })
	t.Run("FailedReader", func(t *testing.T) { testFailedReader(t, im) })
	t.Run("SameContentTwice", func(t *testing.T) { testSameContentTwice(t, im) })
	t.Run("ConcurrentPut", func(t *testing.T) { testConcurrentPut(t, im) })
}

func testPutGetHasDelete(t *testing.T, im Impl) {
	tests := []struct {
		name    string
		content []byte
		stream  bool
		want    bool // PutFrom told the digest to expect
	}{
		{"small", []byte("sealed blob"), false, false},
		{"empty", nil, false, false},
		{"streamed", Big, true, false},
		{"streamed with its digest", Big, true, true},
		{"streamed empty", nil, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := im.New(t)
			want := Digest(tt.content)
			var id string
			var err error
			if tt.stream {
				expect := ""
				if tt.want {
					expect = want
				}
				var size int64
				id, size, err = s.PutFrom(bytes.NewReader(tt.content), expect)
				if err == nil && size != int64(len(tt.content)) {
					t.Fatalf("PutFrom size %d, want %d", size, len(tt.content))
				}
			} else {
				id, err = s.Put(tt.content)
			}
			if err != nil || id != want {
				t.Fatalf("put = %s, %v; want %s", id, err, want)
			}
			got, err := s.Get(id, int64(len(tt.content)))
			if err != nil || !bytes.Equal(got, tt.content) {
				t.Fatalf("Get = %d bytes, %v", len(got), err)
			}
			f, err := s.Open(id)
			if err != nil {
				t.Fatal(err)
			}
			if f.Size() != int64(len(tt.content)) {
				t.Errorf("Open: Size %d, want %d", f.Size(), len(tt.content))
			}
			if f.ModTime().IsZero() {
				t.Error("Open: no ModTime")
			}
			streamed, err := io.ReadAll(f)
			f.Close()
			if err != nil || !bytes.Equal(streamed, tt.content) {
				t.Fatalf("Open streams %d other bytes, %v", len(streamed), err)
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
			if _, err := s.Get(id, 1<<30); !errors.Is(err, cas.ErrNotFound) {
				t.Fatalf("Get after Delete = %v, want ErrNotFound", err)
			}
			if _, err := s.Open(id); !errors.Is(err, cas.ErrNotFound) {
				t.Fatalf("Open after Delete = %v, want ErrNotFound", err)
			}
			if err := s.Delete(id); err != nil {
				t.Fatalf("Delete of a missing file = %v, want nil", err)
			}
			if n := im.Stored(t, s); n != 0 {
				t.Fatalf("%d things stored after Delete, want none", n)
			}
		})
	}
}

func testSeek(t *testing.T, im Impl) {
	s := im.New(t)
	id, _, err := s.PutFrom(bytes.NewReader(Big), "")
	if err != nil {
		t.Fatal(err)
	}
	f, err := s.Open(id)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	size := int64(len(Big))
	tests := []struct {
		offset int64
		whence int
		at     int64 // where the read starts
	}{
		{0, io.SeekStart, 0},
		{size / 2, io.SeekStart, size / 2},
		{1 << 20, io.SeekStart, 1 << 20}, // a chunk boundary of the PostgreSQL backend
		{-10, io.SeekEnd, size - 10},
		{0, io.SeekEnd, size},
		{size + 5, io.SeekStart, size + 5}, // past the end reads nothing
	}
	for _, tt := range tests {
		// From the middle of a chunk, so the next seek leaves one.
		if _, err := f.Seek(3, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		if _, err := f.Read(make([]byte, 7)); err != nil {
			t.Fatal(err)
		}
		pos, err := f.Seek(tt.offset, tt.whence)
		if err != nil || pos != tt.at {
			t.Fatalf("Seek(%d, %d) = %d, %v; want %d", tt.offset, tt.whence, pos, err, tt.at)
		}
		got, err := io.ReadAll(io.LimitReader(f, 100))
		want := Big[min(tt.at, size):min(tt.at+100, size)]
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("after Seek(%d, %d): read %q, %v; want %q", tt.offset, tt.whence, got, err, want)
		}
	}
	if _, err := f.Seek(3, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Seek(-4, io.SeekCurrent); err == nil {
		t.Fatal("Seek before the start succeeded")
	}
}

func testBadIDs(t *testing.T, im Impl) {
	s := im.New(t)
	id, err := s.Put([]byte("kept"))
	if err != nil {
		t.Fatal(err)
	}
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
		"' OR 1=1 --",
		id[:62] + "\x00a",
	} {
		t.Run(bad, func(t *testing.T) {
			if cas.ValidID(bad) {
				t.Fatal("ValidID accepts it")
			}
			if _, err := s.Get(bad, 1<<20); !errors.Is(err, cas.ErrNotFound) {
				t.Errorf("Get = %v, want ErrNotFound", err)
			}
			if _, err := s.Open(bad); !errors.Is(err, cas.ErrNotFound) {
				t.Errorf("Open = %v, want ErrNotFound", err)
			}
			if ok, err := s.Has(bad); ok || !errors.Is(err, cas.ErrNotFound) {
				t.Errorf("Has = %v, %v; want false, ErrNotFound", ok, err)
			}
			if err := s.Delete(bad); !errors.Is(err, cas.ErrNotFound) {
				t.Errorf("Delete = %v, want ErrNotFound", err)
			}
			if bad == "" {
				return // PutFrom takes "" for any digest
			}
			if _, _, err := s.PutFrom(strings.NewReader("kept"), bad); !errors.Is(err, cas.ErrNotFound) {
				t.Errorf("PutFrom with it as the digest = %v, want ErrNotFound", err)
			}
		})
	}
	if ok, _ := s.Has(id); !ok {
		t.Fatal("the stored file is gone")
	}
	if n := im.Stored(t, s); n != 1 {
		t.Fatalf("%d things stored, want the one file", n)
	}
}

func testGetLimit(t *testing.T, im Impl) {
	s := im.New(t)
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
		{999, cas.ErrTooLarge},
		{0, cas.ErrTooLarge},
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

func testDigestMismatch(t *testing.T, im Impl) {
	tests := []struct {
		name    string
		content []byte
		want    string
	}{
		{"small", []byte("a package"), Digest([]byte("another package"))},
		{"across chunks", Big, Digest(Big[1:])},
		{"empty", nil, Digest([]byte("x"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := im.New(t)
			_, _, err := s.PutFrom(bytes.NewReader(tt.content), tt.want)
			if !errors.Is(err, cas.ErrDigest) {
				t.Fatalf("PutFrom = %v, want ErrDigest", err)
			}
			for _, id := range []string{tt.want, Digest(tt.content)} {
				if ok, err := s.Has(id); ok || err != nil {
					t.Errorf("Has(%s) = %v, %v after a refused write", id, ok, err)
				}
			}
			if n := im.Stored(t, s); n != 0 {
				t.Fatalf("%d things stored after a refused write, want none", n)
			}
		})
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("disk went away") }

func testFailedReader(t *testing.T, im Impl) {
	for _, head := range [][]byte{[]byte("half a package"), Big} {
		s := im.New(t)
		r := io.MultiReader(bytes.NewReader(head), errReader{})
		if _, _, err := s.PutFrom(r, ""); err == nil {
			t.Fatal("PutFrom of a failing reader succeeded")
		}
		if n := im.Stored(t, s); n != 0 {
			t.Fatalf("%d things left behind by a failed write of %d bytes", n, len(head))
		}
	}
}

func testSameContentTwice(t *testing.T, im Impl) {
	s := im.New(t)
	first, err := s.Put(Big)
	if err != nil {
		t.Fatal(err)
	}
	n := im.Stored(t, s)
	for range 2 {
		id, size, err := s.PutFrom(bytes.NewReader(Big), first)
		if err != nil || id != first || size != int64(len(Big)) {
			t.Fatalf("PutFrom of kept content = %s, %d, %v", id, size, err)
		}
		if id, err := s.Put(Big); err != nil || id != first {
			t.Fatalf("Put of kept content = %s, %v", id, err)
		}
	}
	if got := im.Stored(t, s); got != n {
		t.Fatalf("%d things stored after writing kept content again, want %d", got, n)
	}
	if got, err := s.Get(first, int64(len(Big))); err != nil || !bytes.Equal(got, Big) {
		t.Fatalf("Get = %d bytes, %v", len(got), err)
	}
}

func testConcurrentPut(t *testing.T, im Impl) {
	s := im.New(t)
	body := bytes.Repeat([]byte("same package "), 50000)
	want := Digest(body)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Go(func() {
			var id string
			var err error
			if i%2 == 0 {
				id, err = s.Put(body)
			} else {
				id, _, err = s.PutFrom(bytes.NewReader(body), "")
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
	if got := im.Stored(t, s); got != 1 {
		t.Fatalf("%d things stored for one content written 16 times at once, want 1", got)
	}
	if got, err := s.Get(want, int64(len(body))); err != nil || !bytes.Equal(got, body) {
		t.Fatalf("Get = %d bytes, %v", len(got), err)
	}
}
