package e2e

import (
	"github.com/mobileatwork/mobileatwork/server"
	"github.com/mobileatwork/mobileatwork/server/cas"
)

// filePath is where srv, a SQLite tenant, keeps the file id on disk, for
// tests that damage it there.
func filePath(srv *server.Server, id string) (string, error) {
	return srv.Files.(*cas.Store).Path(id)
}
