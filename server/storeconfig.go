package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"

	"github.com/mobileatwork/mobileatwork/internal/atomicfile"
	"github.com/mobileatwork/mobileatwork/server/cas"
	"github.com/mobileatwork/mobileatwork/server/store"
	"github.com/mobileatwork/mobileatwork/server/store/sqlite"
)

// storeFile records, in the data directory, which database holds the
// tenant. init writes it; every later command reads it, so no command can
// open a tenant in the wrong database for want of a flag. A directory
// without it is a SQLite tenant (those made before it existed).
const storeFile = "store.json"

// Backends.
const (
	BackendSQLite   = "sqlite"
	BackendPostgres = "postgres"
)

// StoreConfig is a tenant's database, as recorded in storeFile.
type StoreConfig struct {
	Backend string `json:"backend"`
	// DSN is the PostgreSQL connection string. The file is 0600 in the 0700
	// data directory beside the CA's private key, so a password in it is
	// guarded as well as the keys are.
	DSN string `json:"dsn,omitempty"`
}

// Opener opens a backend's store for the tenant in dir. create is true at
// init; otherwise a database without the tenant's schema must fail with
// an error wrapping ErrDatabaseLost.
type Opener func(ctx context.Context, dir string, c StoreConfig, create bool) (store.AllStorage, error)

// StoreOptions is how a command chooses and reaches the tenant's database.
type StoreOptions struct {
	// Backend, when set (--store), must be the recorded one after init;
	// at init it chooses. Empty means the record, or SQLite at init.
	Backend string
	// DSN, when set (MAW_DSN, --dsn-file), replaces the recorded DSN for
	// this run, as for a replica whose database role differs; at init it
	// is the DSN recorded.
	DSN string
	// Openers are the backends beside SQLite, by name.
	Openers map[string]Opener
}

// dsnPassword finds a password in a URL or key=value DSN.
var dsnPassword = regexp.MustCompile(`(^|\s)password\s*=`)

// DSNHasPassword tells whether dsn spells out a password, which must then
// not travel in argv where any local user can read it.
func DSNHasPassword(dsn string) bool {
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		_, set := u.User.Password()
		return set || u.Query().Has("password")
	}
	return dsnPassword.MatchString(dsn)
}

// readStoreConfig reads the record; a directory without one is SQLite.
func readStoreConfig(dir string) (StoreConfig, error) {
	b, err := os.ReadFile(filepath.Join(dir, storeFile))
	if errors.Is(err, os.ErrNotExist) {
		return StoreConfig{Backend: BackendSQLite}, nil
	}
	if err != nil {
		return StoreConfig{}, err
	}
	var c StoreConfig
	if err := json.Unmarshal(b, &c); err != nil || c.Backend == "" {
		return StoreConfig{}, fmt.Errorf("%s is not a store record: fix it or restore it from a backup", storeFile)
	}
	return c, nil
}

func writeStoreConfig(dir string, c StoreConfig) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(dir, storeFile), append(b, '\n'), 0o600)
}

// initStoreConfig checks the choice made at init before anything is
// written.
func initStoreConfig(o StoreOptions) (StoreConfig, error) {
	c := StoreConfig{Backend: o.Backend, DSN: o.DSN}
	if c.Backend == "" {
		c.Backend = BackendSQLite
	}
	switch {
	case c.Backend == BackendSQLite && c.DSN != "":
		return c, invalid("init: a DSN is for --store postgres; SQLite keeps the tenant in the data directory")
	case c.Backend == BackendSQLite:
		return c, nil
	case o.Openers[c.Backend] == nil:
		return c, invalid("init: unknown --store %q: sqlite or postgres", c.Backend)
	case c.DSN == "":
		return c, invalid("init: --store %s needs a DSN: give it with --dsn-file FILE or the environment variable MAW_DSN", c.Backend)
	}
	return c, nil
}

// openStoreConfig resolves what a command after init opens.
func openStoreConfig(dir string, o StoreOptions) (StoreConfig, Opener, error) {
	c, err := readStoreConfig(dir)
	if err != nil {
		return c, nil, err
	}
	if o.Backend != "" && o.Backend != c.Backend {
		return c, nil, invalid("--store %s: the tenant in %s is kept in %s (recorded at init in %s)", o.Backend, dir, c.Backend, storeFile)
	}
	if c.Backend == BackendSQLite {
		if o.DSN != "" {
			return c, nil, invalid("a DSN was given, but the tenant in %s is kept in SQLite: unset MAW_DSN", dir)
		}
		return c, openSQLite, nil
	}
	open := o.Openers[c.Backend]
	if open == nil {
		return c, nil, fmt.Errorf("the tenant in %s is kept in %s, which this program cannot open", dir, c.Backend)
	}
	if o.DSN != "" {
		c.DSN = o.DSN
	}
	return c, open, nil
}

func openSQLite(_ context.Context, dir string, _ StoreConfig, create bool) (store.AllStorage, error) {
	if !create {
		if fi, err := os.Stat(filepath.Join(dir, dbFile)); err != nil || fi.Size() == 0 {
			return nil, fmt.Errorf("%w: restore it from a backup with `mobileatwork-server restore --data %s --from BACKUP`; starting without it would lose every device", ErrDatabaseLost, dir)
		}
	}
	return sqlite.Open(filepath.Join(dir, dbFile))
}

// blobKeeper is a store that keeps the tenant's files in its database.
type blobKeeper interface {
	Blobs() cas.Blobs
}

// openFiles opens where the tenant's files are kept, and lists those the
// database names but the tenant does not hold. A store that keeps files
// itself (PostgreSQL) keeps them, so that every replica reads what any
// wrote and a replica's data directory needs only pki/ and store.json;
// the files/ such a tenant kept before are copied in. SQLite, on one
// machine, keeps them in files/.
func openFiles(dir string, c StoreConfig, st store.AllStorage) (cas.Blobs, []string, error) {
	if k, ok := st.(blobKeeper); ok {
		b := k.Blobs()
		missing, err := importFiles(filepath.Join(dir, filesDir), b)
		return b, missing, err
	}
	if c.Backend != BackendSQLite {
		return nil, nil, fmt.Errorf("the %s store cannot keep the tenant's files", c.Backend)
	}
	files, err := cas.Open(filepath.Join(dir, filesDir))
	if err != nil {
		return nil, nil, err
	}
	return files, nil, migrateFiles(dir, files)
}
