package cas_test

import (
	"io/fs"
	"path/filepath"
	"testing"

	"github.com/mobileatwork/mobileatwork/server/cas"
	"github.com/mobileatwork/mobileatwork/server/cas/castest"
)

func TestBlobs(t *testing.T) {
	roots := map[cas.Blobs]string{}
	castest.Run(t, castest.Impl{
		New: func(t *testing.T) cas.Blobs {
			root := filepath.Join(t.TempDir(), "files")
			s, err := cas.Open(root)
			if err != nil {
				t.Fatal(err)
			}
			roots[s] = root
			return s
		},
		// Every regular file in the tree is one content or one unfinished
		// write.
		Stored: func(t *testing.T, b cas.Blobs) int {
			n := 0
			err := filepath.WalkDir(roots[b], func(_ string, d fs.DirEntry, err error) error {
				if err == nil && d.Type().IsRegular() {
					n++
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			return n
		},
	})
}
