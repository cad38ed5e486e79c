package server

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/mobileatwork/mobileatwork/server/cas"
)

// namedFiles is a file store that knows which files the tenant's rows
// name and it does not hold.
type namedFiles interface {
	cas.Blobs
	Missing() ([]string, error)
}

// importFiles copies into to the files its database names but does not
// hold, from the file tree at root: where a PostgreSQL tenant kept them
// before the database did. Each copy is checked against its digest on the
// way in, and the tree is left as it is (other replicas' trees may hold
// other files; once every replica has started, the trees can go). It
// returns the files found in neither, whose fetches fail until a tree
// holding them is brought back.
func importFiles(root string, to cas.Blobs) ([]string, error) {
	db, ok := to.(namedFiles)
	if !ok {
		return nil, nil
	}
	want, err := db.Missing()
	if err != nil || len(want) == 0 {
		return nil, err
	}
	if _, err := os.Stat(root); errors.Is(err, fs.ErrNotExist) {
		return want, nil
	}
	from, err := cas.Open(root)
	if err != nil {
		return nil, err
	}
	var missing []string
	for _, id := range want {
		f, err := from.Open(id)
		if errors.Is(err, cas.ErrNotFound) {
			missing = append(missing, id)
			continue
		} else if err != nil {
			return nil, fmt.Errorf("copy file %s into the database: %w", id, err)
		}
		_, _, err = to.PutFrom(f, id)
		f.Close()
		if errors.Is(err, cas.ErrDigest) {
			missing = append(missing, id) // a damaged copy is no copy
		} else if err != nil {
			return nil, fmt.Errorf("copy file %s into the database: %w", id, err)
		}
	}
	return missing, nil
}

// maxListed bounds the ids a warning names.
const maxListed = 20

// warnMissingFiles logs, once per start, the files the database names but
// the tenant does not hold: the fetches of each fail until it is restored.
func (s *Server) warnMissingFiles() {
	if len(s.missingFiles) == 0 {
		return
	}
	ids := s.missingFiles
	if len(ids) > maxListed {
		ids = append(ids[:maxListed:maxListed], fmt.Sprintf("and %d more", len(s.missingFiles)-maxListed))
	}
	s.Log.Sugar().Warnf("%d files the database names are not kept (their downloads fail with 404 until restored: "+
		"copy them into %s of a data directory and start a server on it): %s",
		len(s.missingFiles), filesDir, strings.Join(ids, ", "))
}
