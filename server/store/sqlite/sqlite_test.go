package sqlite

import (
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/store"
	"github.com/mobileatwork/mobileatwork/server/store/storetest"
)

func openTemp(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestSuite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.AllStorage {
		return openTemp(t, filepath.Join(t.TempDir(), "maw.db"))
	})
}

var t0 = time.Date(2026, time.March, 14, 9, 0, 0, 0, time.UTC)

// TestTwoHandlesWriteConcurrently stands for `serve` and an admin command
// working on the same file at once: neither may see "database is locked".
func TestTwoHandlesWriteConcurrently(t *testing.T) {
	path := filepath.Join(t.TempDir(), "maw.db")
	serve, admin := openTemp(t, path), openTemp(t, path)
	if err := serve.CreateDevice(t.Context(), store.Device{ID: "d1", EnrolledAt: t0}); err != nil {
		t.Fatal(err)
	}

	const perWriter = 40
	var wg sync.WaitGroup
	errs := make(chan error, 4*perWriter)
	for w := range 2 {
		// serve: results arrive and devices check in.
		wg.Go(func() {
			for i := range perWriter {
				r := protocol.Result{RunID: fmt.Sprintf("run-%d-%d", w, i), DeviceID: "d1", ScriptID: "s1", Status: protocol.StatusSucceeded}
				if _, err := serve.PutResult(t.Context(), r, t0.Add(time.Duration(i))); err != nil {
					errs <- fmt.Errorf("serve PutResult: %w", err)
				}
				if _, err := serve.RecordCheckin(t.Context(), "d1", store.Checkin{Facts: protocol.Facts{AgentVersion: "1.70.0"}, At: t0}); err != nil {
					errs <- fmt.Errorf("serve RecordCheckin: %w", err)
				}
			}
		})
		// admin: tokens and configuration, each a write transaction.
		wg.Go(func() {
			for i := range perWriter {
				h := sha256.Sum256(fmt.Appendf(nil, "token-%d-%d", w, i))
				if err := admin.CreateToken(t.Context(), store.Token{Hash: h[:], UsesLeft: 1, ExpiresAt: t0.Add(time.Hour), CreatedAt: t0}); err != nil {
					errs <- fmt.Errorf("admin CreateToken: %w", err)
				}
				c, err := admin.Configuration(t.Context(), store.DefaultConfigID)
				if err != nil {
					errs <- fmt.Errorf("admin Configuration: %w", err)
					continue
				}
				c.Settings = map[string]string{"checkin_interval_minutes": fmt.Sprint(i), "max_execution_seconds": "60"}
				c.Version++
				if err := admin.UpdateConfiguration(t.Context(), c); err != nil {
					errs <- fmt.Errorf("admin UpdateConfiguration: %w", err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	// Each handle sees the other's writes.
	rs, err := admin.Results(t.Context(), store.ResultFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2*perWriter {
		t.Errorf("admin sees %d results, want %d", len(rs), 2*perWriter)
	}
	h := sha256.Sum256([]byte("token-1-7"))
	if _, err := serve.RedeemToken(t.Context(), h[:], t0); err != nil {
		t.Errorf("serve cannot redeem a token the admin created: %v", err)
	}
}

func TestReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "maw.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutUser(t.Context(), store.User{Email: "ada@example.com", CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateDevice(t.Context(), store.Device{ID: "d1", User: "ada@example.com", EnrolledAt: t0}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openTemp(t, path)
	if u, err := s.User(t.Context(), "ada@example.com"); err != nil || !u.CreatedAt.Equal(t0) {
		t.Errorf("User after reopen = %+v, %v", u, err)
	}
	d, err := s.Device(t.Context(), "d1")
	if err != nil || d.User != "ada@example.com" || !d.EnrolledAt.Equal(t0) {
		t.Errorf("Device after reopen = %+v, %v", d, err)
	}
}

func TestFileMode(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(path string) error
	}{
		{"created", func(string) error { return nil }},
		{"existing world-readable file is tightened", func(path string) error {
			if err := os.WriteFile(path, nil, 0o644); err != nil {
				return err
			}
			return os.Chmod(path, 0o644) // umask may have narrowed it
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "maw.db")
			if err := tt.prepare(path); err != nil {
				t.Fatal(err)
			}
			s := openTemp(t, path)
			// A write makes SQLite create the -wal and -shm files too.
			if err := s.PutUser(t.Context(), store.User{Email: "a@b.c", CreatedAt: t0}); err != nil {
				t.Fatal(err)
			}
			for _, p := range []string{path, path + "-wal", path + "-shm"} {
				fi, err := os.Stat(p)
				if err != nil {
					t.Fatal(err)
				}
				if got := fi.Mode().Perm(); got != 0o600 {
					t.Errorf("%s mode = %v, want 0600", filepath.Base(p), got)
				}
			}
		})
	}
}

func TestOpenUnusualPath(t *testing.T) {
	// Characters that mean something in a URI must reach the file system as is.
	dir := filepath.Join(t.TempDir(), "data ?#%&=dir")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "maw?.db")
	openTemp(t, path)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database not created at the given path: %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(filepath.Join(dir, "missing", "maw.db")); err == nil {
		t.Error("Open in a missing directory succeeded")
	}
	if _, err := Open(dir); err == nil {
		t.Error("Open of a directory succeeded")
	}
}

func TestMigrations(t *testing.T) {
	path := filepath.Join(t.TempDir(), "maw.db")
	for i := range 3 {
		s := openTemp(t, path)
		if v := schemaVersion(t, s); v != len(migrations) {
			t.Fatalf("open %d: user_version = %d, want %d", i, v, len(migrations))
		}
		if err := s.CreateScript(t.Context(), store.Script{ID: fmt.Sprint("s", i), CreatedAt: t0}); err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
	}

	t.Run("concurrent first open", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "maw.db")
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Go(func() {
				s, err := Open(path)
				if err == nil {
					err = s.Close()
				}
				errs[i] = err
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		if v := schemaVersion(t, openTemp(t, path)); v != len(migrations) {
			t.Fatalf("user_version = %d, want %d", v, len(migrations))
		}
	})

	t.Run("newer schema refused", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "maw.db")
		s := openTemp(t, path)
		if _, err := s.db.ExecContext(t.Context(), fmt.Sprintf("PRAGMA user_version = %d", len(migrations)+1)); err != nil {
			t.Fatal(err)
		}
		if s2, err := Open(path); err == nil {
			s2.Close()
			t.Fatal("Open of a database from a newer server succeeded")
		}
	})
}

func schemaVersion(t *testing.T, s *Store) int {
	t.Helper()
	var v int
	if err := s.read.QueryRowContext(t.Context(), "PRAGMA user_version").Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestPragmas(t *testing.T) {
	s := openTemp(t, filepath.Join(t.TempDir(), "maw.db"))
	tests := []struct {
		conn   string
		db     *sql.DB
		pragma string
		want   string
	}{
		{"write", s.db, "journal_mode", "wal"},
		{"write", s.db, "foreign_keys", "1"},
		{"write", s.db, "busy_timeout", fmt.Sprint(busyTimeout.Milliseconds())},
		{"write", s.db, "synchronous", "2"},
		{"write", s.db, "query_only", "0"},
		{"read", s.read.DB, "journal_mode", "wal"},
		{"read", s.read.DB, "busy_timeout", fmt.Sprint(busyTimeout.Milliseconds())},
		{"read", s.read.DB, "query_only", "1"},
	}
	for _, tt := range tests {
		t.Run(tt.conn+"/"+tt.pragma, func(t *testing.T) {
			var got string
			if err := tt.db.QueryRowContext(t.Context(), "PRAGMA "+tt.pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("PRAGMA %s = %q, want %q", tt.pragma, got, tt.want)
			}
		})
	}
}

func TestTimeRoundTrip(t *testing.T) {
	tests := []time.Time{
		{},
		time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC),
		time.Date(2026, 3, 29, 2, 30, 0, 999999999, time.FixedZone("", -9*3600-30*60)),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
	}
	for _, in := range tests {
		t.Run(in.String(), func(t *testing.T) {
			got, err := parseTime(formatTime(in))
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(in) || got.Location() != time.UTC {
				t.Errorf("round trip of %v = %v", in, got)
			}
		})
	}
	// Text order is time order, which the ORDER BY and expiry comparisons need.
	a, b := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 1, 0, 0, 0, 500, time.UTC)
	if !(formatTime(a) < formatTime(b)) {
		t.Errorf("formatTime(%v) = %s does not sort before formatTime(%v) = %s", a, formatTime(a), b, formatTime(b))
	}
}

// TestRedeemAcrossHandles checks that the last use of a token goes to
// exactly one of two handles, as when `serve` enrolls a device while an
// admin command runs: the lock that guarantees it is SQLite's, not Go's.
func TestRedeemAcrossHandles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "maw.db")
	handles := []*Store{openTemp(t, path), openTemp(t, path)}
	h := sha256.Sum256([]byte("last use"))
	if err := handles[0].CreateToken(t.Context(), store.Token{Hash: h[:], UsesLeft: 1, ExpiresAt: t0.Add(time.Hour), CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	const perHandle = 10
	errs := make([]error, 2*perHandle)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range errs {
		wg.Go(func() {
			<-start
			_, errs[i] = handles[i%2].RedeemToken(t.Context(), h[:], t0)
		})
	}
	close(start)
	wg.Wait()
	ok := 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, store.ErrTokenUsed):
			t.Errorf("redemption %d: %v", i, err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d redemptions succeeded, want exactly 1", ok)
	}
}

// BenchmarkPutResult measures one durable result insert (synchronous=FULL).
func BenchmarkPutResult(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "maw.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	r := protocol.Result{DeviceID: "d1", ScriptID: "s1", Status: protocol.StatusSucceeded, Stdout: "ok"}
	i := 0
	for b.Loop() {
		r.RunID = fmt.Sprint("run-", i)
		i++
		if _, err := s.PutResult(b.Context(), r, t0); err != nil {
			b.Fatal(err)
		}
	}
}
