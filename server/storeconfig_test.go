package server

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mobileatwork/mobileatwork/server/store"
	"github.com/mobileatwork/mobileatwork/server/store/postgres"
	"github.com/mobileatwork/mobileatwork/server/store/postgres/pgtest"
)

func TestDSNHasPassword(t *testing.T) {
	tests := []struct {
		dsn  string
		want bool
	}{
		{"postgres://maw@db.example.com/maw", false},
		{"postgres://maw:s3cret@db.example.com/maw", true},
		{"postgresql://maw@db/maw?sslmode=verify-full&password=s3cret", true},
		{"host=db user=maw dbname=maw", false},
		{"host=db user=maw password=s3cret dbname=maw", true},
		{"password = s3cret host=db", true},
		{"host=db passwordless_hint=1", false},
	}
	for _, tt := range tests {
		if got := DSNHasPassword(tt.dsn); got != tt.want {
			t.Errorf("DSNHasPassword(%q) = %v, want %v", tt.dsn, got, tt.want)
		}
	}
}

func pgOpeners() map[string]Opener {
	return map[string]Opener{BackendPostgres: func(ctx context.Context, _ string, c StoreConfig, create bool) (store.AllStorage, error) {
		return postgres.Open(ctx, c.DSN, postgres.Options{Create: create})
	}}
}

// TestInitRefusesBadStoreChoice checks that each wrong choice at init is
// one error and leaves no tenant behind.
func TestInitRefusesBadStoreChoice(t *testing.T) {
	tests := []struct {
		name string
		o    StoreOptions
		want string
	}{
		{"postgres without a DSN", StoreOptions{Backend: BackendPostgres, Openers: pgOpeners()}, "needs a DSN"},
		{"unknown backend", StoreOptions{Backend: "mysql", DSN: "x", Openers: pgOpeners()}, "unknown --store"},
		{"DSN for sqlite", StoreOptions{DSN: "host=db"}, "a DSN is for --store postgres"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			_, err := InitWith(dir, "T", nil, tt.o)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("InitWith = %v, want an error saying %q", err, tt.want)
			}
			if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("a refused init left %s behind (%v)", dir, err)
			}
		})
	}
}

func TestPostgresTenant(t *testing.T) {
	dsn := pgtest.DSN(t)
	dir := filepath.Join(t.TempDir(), "data")
	s, err := InitWith(dir, "T", nil, StoreOptions{Backend: BackendPostgres, DSN: dsn, Openers: pgOpeners()})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Store.PutUser(t.Context(), store.User{Email: "ada@example.com"}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if fi, err := os.Stat(filepath.Join(dir, storeFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("store record: %v, %v; want a 0600 file", fi, err)
	}
	if _, err := os.Stat(filepath.Join(dir, dbFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a PostgreSQL tenant has a %s: %v", dbFile, err)
	}

	t.Run("later commands need no flag", func(t *testing.T) {
		s, err := OpenWith(dir, StoreOptions{Openers: pgOpeners()})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if _, err := s.Store.User(t.Context(), "ada@example.com"); err != nil {
			t.Fatalf("user stored through init's store: %v", err)
		}
	})
	t.Run("init again is refused", func(t *testing.T) {
		_, err := InitWith(dir, "T", nil, StoreOptions{Backend: BackendPostgres, DSN: dsn, Openers: pgOpeners()})
		if err == nil || !strings.Contains(err.Error(), "already exists") {
			t.Fatalf("second init = %v", err)
		}
	})
	t.Run("an empty database is a lost one", func(t *testing.T) {
		_, err := OpenWith(dir, StoreOptions{DSN: pgtest.DSN(t), Openers: pgOpeners()})
		if !errors.Is(err, ErrDatabaseLost) || !strings.Contains(err.Error(), "pg_restore") {
			t.Fatalf("OpenWith on an empty database = %v, want ErrDatabaseLost saying how to restore", err)
		}
	})
	t.Run("a different --store is refused", func(t *testing.T) {
		_, err := OpenWith(dir, StoreOptions{Backend: BackendSQLite, Openers: pgOpeners()})
		if err == nil || !strings.Contains(err.Error(), "kept in postgres") {
			t.Fatalf("OpenWith --store sqlite = %v", err)
		}
		if _, err := os.Stat(filepath.Join(dir, dbFile)); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("the refused open made a %s", dbFile)
		}
	})
	t.Run("a program without the backend says so", func(t *testing.T) {
		if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), "cannot open") {
			t.Fatalf("Open without the PostgreSQL opener = %v", err)
		}
	})
	t.Run("backup copies keys and files and says to use pg_dump", func(t *testing.T) {
		s, err := OpenWith(dir, StoreOptions{Openers: pgOpeners()})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		out := filepath.Join(t.TempDir(), "backup")
		err = s.Backup(t.Context(), out)
		if err == nil || !strings.Contains(err.Error(), "pg_dump") || strings.Contains(err.Error(), "\n") {
			t.Fatalf("Backup = %v, want one line saying to use pg_dump", err)
		}
		for _, f := range []string{filepath.Join(pkiDir, "ca.crt"), storeFile} {
			if _, err := os.Stat(filepath.Join(out, f)); err != nil {
				t.Errorf("backup lacks %s: %v", f, err)
			}
		}
		// Restored into a new directory, the tenant opens on its database.
		restored := filepath.Join(t.TempDir(), "restored")
		if err := Restore(restored, out); err != nil {
			t.Fatal(err)
		}
		r, err := OpenWith(restored, StoreOptions{Openers: pgOpeners()})
		if err != nil {
			t.Fatalf("open the restored tenant: %v", err)
		}
		r.Close()
	})
}
