// Package server is the reference tenant server: it holds the tenant's keys,
// devices, scripts, assignments and results, serves the device API over TLS
// and offers the administrative operations the CLI wires up.
package server

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"go.uber.org/zap"

	"github.com/mobileatwork/mobileatwork/server/cas"
	"github.com/mobileatwork/mobileatwork/server/pki"
	"github.com/mobileatwork/mobileatwork/server/store"
	"github.com/mobileatwork/mobileatwork/server/store/sqlite"
)

// ErrNotInitialised is returned when the data directory holds no tenant.
var ErrNotInitialised = errors.New("no tenant in the data directory")

// Layout of the data directory.
const (
	dbFile = "tenant.db"
	pkiDir = "pki"
	// filesDir is the content-addressed store of sealed script blobs,
	// catalog PKGs, icons and screenshots.
	filesDir = "files"
)

// Server is one tenant, opened from its data directory.
type Server struct {
	Store  store.AllStorage
	Tenant *pki.Tenant
	// Files keeps sealed script blobs, catalog PKGs, icons and
	// screenshots, each by the SHA-256 the store records for it.
	Files *cas.Store
	// Data is the data directory.
	Data string
	Log  *zap.Logger
	// Now is the clock; tests replace it.
	Now func() time.Time
	// ResponseTTL is how long a signed check-in response stays valid.
	ResponseTTL time.Duration
	// MaxInFlight bounds the device requests served at once; those over
	// it are answered 503 with Retry-After. Zero is DefaultMaxInFlight.
	MaxInFlight int
}

// Init creates a new tenant in dir: keys, certificates and the database. It
// refuses a directory that already holds a tenant.
func Init(dir, tenantName string, hostnames []string) (*Server, error) {
	if _, err := os.Stat(filepath.Join(dir, dbFile)); err == nil {
		return nil, fmt.Errorf("init %s: a tenant already exists there; use another --data directory", dir)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("init %s: %w", dir, err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("init %s: %w", dir, err)
	}
	if _, err := pki.Create(filepath.Join(dir, pkiDir), tenantName, hostnames, time.Now()); err != nil {
		return nil, fmt.Errorf("init %s: %w", dir, err)
	}
	return open(dir, true)
}

// ErrDatabaseLost is returned when the data directory holds a tenant's keys
// but its database is missing or empty: opening would start an empty
// tenant, and every enrolled device would be refused as unknown.
var ErrDatabaseLost = errors.New("the tenant's database is missing or empty")

// Open loads the tenant in dir. It refuses a directory whose keys are there
// but whose database is not: that is a restore, not a fresh start.
func Open(dir string) (*Server, error) { return open(dir, false) }

func open(dir string, creating bool) (*Server, error) {
	_, perr := os.Stat(filepath.Join(dir, pkiDir))
	fi, derr := os.Stat(filepath.Join(dir, dbFile))
	switch {
	case perr != nil && derr != nil:
		return nil, fmt.Errorf("%w %s: run `mobileatwork-server init --data %s` first", ErrNotInitialised, dir, dir)
	case !creating && (derr != nil || fi.Size() == 0):
		return nil, fmt.Errorf("open tenant %s: %w: restore it from a backup with `mobileatwork-server restore --data %s --from BACKUP`; starting without it would lose every device", dir, ErrDatabaseLost, dir)
	}
	t, err := pki.Load(filepath.Join(dir, pkiDir))
	if err != nil {
		return nil, fmt.Errorf("open tenant %s: %w", dir, err)
	}
	st, err := sqlite.Open(filepath.Join(dir, dbFile))
	if err != nil {
		return nil, fmt.Errorf("open tenant %s: %w", dir, err)
	}
	files, err := cas.Open(filepath.Join(dir, filesDir))
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("open tenant %s: %w", dir, err)
	}
	if err := migrateFiles(dir, files); err != nil {
		st.Close()
		return nil, fmt.Errorf("open tenant %s: %w", dir, err)
	}
	return &Server{Store: st, Tenant: t, Files: files, Data: dir, Log: zap.NewNop(), Now: time.Now, ResponseTTL: 5 * time.Minute}, nil
}

// Close releases the store.
func (s *Server) Close() error { return s.Store.Close() }

// newID returns prefix_ followed by 16 random hex digits.
func newID(prefix string) string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return prefix + "_" + hex.EncodeToString(b)
}

func (s *Server) now() time.Time { return s.Now().UTC() }
