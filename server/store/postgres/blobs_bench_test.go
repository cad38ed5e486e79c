package postgres

import (
	"bytes"
	"crypto/rand"
	"io"
	"path/filepath"
	"testing"

	"github.com/mobileatwork/mobileatwork/server/cas"
	"github.com/mobileatwork/mobileatwork/server/store/postgres/pgtest"
)

// BenchmarkBlobs writes and streams back a 16 MiB PKG through the
// database's file store, against the baseline of the data directory's file
// tree (the SQLite tenant's) in the same run.
func BenchmarkBlobs(b *testing.B) {
	content := make([]byte, 16<<20)
	rand.Read(content)
	dir, err := cas.Open(filepath.Join(b.TempDir(), "files"))
	if err != nil {
		b.Fatal(err)
	}
	db := openTest(b, pgtest.DSN(b), Options{Create: true}).Blobs()
	for _, impl := range []struct {
		name string
		s    cas.Blobs
	}{{"baseline=files", dir}, {"postgres", db}} {
		b.Run("put/"+impl.name, func(b *testing.B) {
			b.SetBytes(int64(len(content)))
			for b.Loop() {
				id, _, err := impl.s.PutFrom(bytes.NewReader(content), "")
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				impl.s.Delete(id)
				b.StartTimer()
			}
		})
		b.Run("read/"+impl.name, func(b *testing.B) {
			id, err := impl.s.Put(content)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(content)))
			for b.Loop() {
				f, err := impl.s.Open(id)
				if err != nil {
					b.Fatal(err)
				}
				if n, err := io.Copy(io.Discard, f); err != nil || n != int64(len(content)) {
					b.Fatal(n, err)
				}
				f.Close()
			}
		})
	}
}
