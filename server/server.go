// Package server is the reference tenant server: it holds the tenant's keys,
// devices, scripts, assignments and results, serves the device API over TLS
// and offers the administrative operations the CLI wires up.
package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/mobileatwork/mobileatwork/server/addrlimit"
	"github.com/mobileatwork/mobileatwork/server/cas"
	"github.com/mobileatwork/mobileatwork/server/pki"
	"github.com/mobileatwork/mobileatwork/server/store"
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
	// screenshots, each by the SHA-256 the store records for it: in the
	// data directory, or in the database that keeps them (see openFiles).
	Files cas.Blobs
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
	// ResultsRetention is how long Serve keeps results: older ones are
	// purged at start and hourly. Zero keeps them forever.
	ResultsRetention time.Duration
	// SeenEvery is how long Serve gathers the times of check-ins that
	// reported nothing new before recording them (seen.go). Zero is
	// DefaultSeenEvery.
	SeenEvery time.Duration
	// EnrollLimit bounds enrollment attempts per source address
	// (enrolllimit.go); zero fields are the defaults.
	EnrollLimit EnrollLimit
	// IOTimeout bounds reading each device request and writing its answer;
	// zero is DefaultIOTimeout. A package download's write limit grows
	// from it with the bytes it sends.
	IOTimeout time.Duration

	seen       seenBatch
	enrollOnce sync.Once
	enrollLim  *addrlimit.Limiter
	// missingFiles are files the database names but the tenant does not
	// hold, found at open; Serve warns of them.
	missingFiles []string
	// Wake tunes the wake channel (wake.go); zero fields are the defaults.
	Wake     WakeOptions
	wakeOnce sync.Once
	// tickets are the TLS session ticket keys replicas share (tickets.go).
	ticketsOnce sync.Once
	tickets     *sessionTickets
	wakes       *wakeHub
}

// Init creates a new tenant in dir, kept in SQLite: keys, certificates and
// the database. It refuses a directory that already holds a tenant.
func Init(dir, tenantName string, hostnames []string) (*Server, error) {
	return InitWith(dir, tenantName, hostnames, StoreOptions{})
}

// InitWith is Init with the database o chooses, recorded in the data
// directory so that every later command opens the same one. The database
// is made first: it is what most often cannot be reached, and a failure
// there leaves the directory as it was.
func InitWith(dir, tenantName string, hostnames []string, o StoreOptions) (*Server, error) {
	c, err := initStoreConfig(o)
	if err != nil {
		return nil, err
	}
	for _, f := range []string{dbFile, storeFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			return nil, invalid("init %s: a tenant already exists there; use another --data directory", dir)
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("init %s: %w", dir, err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("init %s: %w", dir, err)
	}
	open := openSQLite
	if c.Backend != BackendSQLite {
		open = o.Openers[c.Backend]
	}
	st, err := open(context.Background(), dir, c, true)
	if err != nil {
		return nil, fmt.Errorf("init %s: %w", dir, err)
	}
	if _, err := pki.Create(filepath.Join(dir, pkiDir), tenantName, hostnames, time.Now()); err != nil {
		st.Close()
		return nil, fmt.Errorf("init %s: %w", dir, err)
	}
	if err := writeStoreConfig(dir, c); err != nil {
		st.Close()
		return nil, fmt.Errorf("init %s: %w", dir, err)
	}
	return finishOpen(dir, c, st)
}

// ErrDatabaseLost is returned when the data directory holds a tenant's keys
// but its database is missing or empty: opening would start an empty
// tenant, and every enrolled device would be refused as unknown.
var ErrDatabaseLost = errors.New("the tenant's database is missing or empty")

// Open loads the tenant in dir. It refuses a directory whose keys are there
// but whose database is not: that is a restore, not a fresh start.
func Open(dir string) (*Server, error) { return OpenWith(dir, StoreOptions{}) }

// OpenWith is Open with the backends and overrides of o.
func OpenWith(dir string, o StoreOptions) (*Server, error) {
	_, perr := os.Stat(filepath.Join(dir, pkiDir))
	_, derr := os.Stat(filepath.Join(dir, dbFile))
	_, serr := os.Stat(filepath.Join(dir, storeFile))
	if perr != nil && derr != nil && serr != nil {
		return nil, fmt.Errorf("%w %s: run `mobileatwork-server init --data %s` first", ErrNotInitialised, dir, dir)
	}
	c, open, err := openStoreConfig(dir, o)
	if err != nil {
		return nil, fmt.Errorf("open tenant %s: %w", dir, err)
	}
	st, err := open(context.Background(), dir, c, false)
	if errors.Is(err, store.ErrNoSchema) {
		return nil, fmt.Errorf("open tenant %s: %w: the %s database holds no tenant schema; restore it (pg_restore of the dump made with the backup), or check the DSN and its search_path; starting without it would lose every device", dir, ErrDatabaseLost, c.Backend)
	}
	if err != nil {
		return nil, fmt.Errorf("open tenant %s: %w", dir, err)
	}
	return finishOpen(dir, c, st)
}

// finishOpen loads the keys and the file store beside the opened store,
// which it closes on failure.
func finishOpen(dir string, c StoreConfig, st store.AllStorage) (*Server, error) {
	t, err := pki.Load(filepath.Join(dir, pkiDir))
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("open tenant %s: %w", dir, err)
	}
	files, missing, err := openFiles(dir, c, st)
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("open tenant %s: %w", dir, err)
	}
	return &Server{Store: st, Tenant: t, Files: files, Data: dir, Log: zap.NewNop(), Now: time.Now, ResponseTTL: 5 * time.Minute, missingFiles: missing}, nil
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
