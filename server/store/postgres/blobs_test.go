package postgres

import (
	"bytes"
	"testing"

	"github.com/mobileatwork/mobileatwork/server/cas"
	"github.com/mobileatwork/mobileatwork/server/cas/castest"
	"github.com/mobileatwork/mobileatwork/server/store"
	"github.com/mobileatwork/mobileatwork/server/store/postgres/pgtest"
)

// countRows runs a count(*) query.
func countRows(t *testing.T, s *Store, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := s.pool.QueryRow(t.Context(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestBlobs(t *testing.T) {
	stores := map[cas.Blobs]*Store{}
	castest.Run(t, castest.Impl{
		New: func(t *testing.T) cas.Blobs {
			s := openTest(t, pgtest.DSN(t), Options{Create: true})
			b := s.Blobs()
			stores[b] = s
			return b
		},
		// The blobs, and any chunk a failed write left without one.
		Stored: func(t *testing.T, b cas.Blobs) int {
			return countRows(t, stores[b], `SELECT (SELECT count(*) FROM blobs)
	+ (SELECT count(*) FROM blob_chunks c WHERE NOT EXISTS (SELECT 1 FROM blobs WHERE digest = c.digest))`)
		},
	})
}

func TestBlobChunks(t *testing.T) {
	s := openTest(t, pgtest.DSN(t), Options{Create: true})
	b := s.Blobs()
	tests := []struct {
		name   string
		size   int
		chunks int
		last   int // bytes in the last chunk
	}{
		{"5 MB", 5_000_000, 5, 5_000_000 - 4*chunkSize},
		{"one chunk exactly", chunkSize, 1, chunkSize},
		{"one byte over", chunkSize + 1, 2, 1},
		{"empty", 0, 0, 0},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			content := bytes.Repeat([]byte{byte(i + 1)}, tt.size)
			id, size, err := b.PutFrom(bytes.NewReader(content), "")
			if err != nil || size != int64(tt.size) {
				t.Fatalf("PutFrom = %s, %d, %v", id, size, err)
			}
			if n := countRows(t, s, `SELECT count(*) FROM blob_chunks WHERE digest = $1`, id); n != tt.chunks {
				t.Fatalf("%d chunks, want %d", n, tt.chunks)
			}
			if tt.chunks == 0 {
				return
			}
			full := tt.chunks - 1
			if tt.last == chunkSize {
				full++
			}
			if n := countRows(t, s, `SELECT count(*) FROM blob_chunks WHERE digest = $1 AND length(data) = $2`, id, chunkSize); n != full {
				t.Fatalf("%d full chunks, want %d", n, full)
			}
			if n := countRows(t, s, `SELECT length(data) FROM blob_chunks WHERE digest = $1 AND n = $2`, id, tt.chunks-1); n != tt.last {
				t.Fatalf("last chunk holds %d bytes, want %d", n, tt.last)
			}
			got, err := b.Get(id, int64(tt.size))
			if err != nil || !bytes.Equal(got, content) {
				t.Fatalf("Get = %d bytes, %v", len(got), err)
			}
			if err := b.Delete(id); err != nil {
				t.Fatal(err)
			}
			if n := countRows(t, s, `SELECT count(*) FROM blob_chunks WHERE digest = $1`, id); n != 0 {
				t.Fatalf("%d chunks left after Delete", n)
			}
		})
	}
}

func TestBlobsMissing(t *testing.T) {
	s := openTest(t, pgtest.DSN(t), Options{Create: true})
	b := s.Blobs().(*Blobs)
	ctx := t.Context()
	kept, err := b.Put([]byte("sealed v1"))
	if err != nil {
		t.Fatal(err)
	}
	v2, pkg, icon, shot := castest.Digest([]byte("v2")), castest.Digest([]byte("pkg")), castest.Digest([]byte("icon")), castest.Digest([]byte("shot"))
	sc := store.Script{ID: "scr_1", Name: "s", Version: 1, SHA256: kept, BlobSHA256: kept, BlobKey: []byte("k")}
	if err := s.CreateScript(ctx, sc); err != nil {
		t.Fatal(err)
	}
	sc.Version, sc.BlobSHA256 = 2, v2
	if err := s.UpdateScript(ctx, sc); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateApp(ctx, store.App{ID: "app_1", Name: "a", Kind: "inhouse", FileSHA256: pkg}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateApp(ctx, store.App{ID: "app_2", Name: "b", Kind: "inhouse"}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutAppDetails(ctx, store.AppDetails{AppID: "app_1", Icon: &store.Image{SHA256: icon},
		Screenshots: []store.Image{{SHA256: shot}, {SHA256: kept}}}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutAppDetails(ctx, store.AppDetails{AppID: "app_2"}); err != nil {
		t.Fatal(err)
	}
	got, err := b.Missing()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{v2, pkg, icon, shot}
	if !sameSet(got, want) {
		t.Fatalf("Missing = %v, want %v", got, want)
	}
	if _, err := b.Put([]byte("v2")); err != nil {
		t.Fatal(err)
	}
	if got, _ := b.Missing(); !sameSet(got, []string{pkg, icon, shot}) {
		t.Fatalf("Missing after Put = %v", got)
	}
}

func sameSet(a, b []string) bool {
	m := map[string]int{}
	for _, s := range a {
		m[s]++
	}
	for _, s := range b {
		m[s]--
	}
	for _, n := range m {
		if n != 0 {
			return false
		}
	}
	return len(a) == len(b)
}
