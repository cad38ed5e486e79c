package postgres

import (
	"errors"
	"testing"

	"github.com/mobileatwork/mobileatwork/server/store"
	"github.com/mobileatwork/mobileatwork/server/store/postgres/pgtest"
	"github.com/mobileatwork/mobileatwork/server/store/storetest"
)

func openTest(t testing.TB, dsn string, o Options) *Store {
	t.Helper()
	s, err := Open(t.Context(), dsn, o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestSuite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.AllStorage {
		return openTest(t, pgtest.DSN(t), Options{Create: true})
	})
}

func TestOpenWithoutSchema(t *testing.T) {
	dsn := pgtest.DSN(t)
	if _, err := Open(t.Context(), dsn, Options{}); !errors.Is(err, ErrNoSchema) {
		t.Fatalf("Open of an empty database = %v, want ErrNoSchema", err)
	}
	// Refusing created nothing: a later init still starts from scratch.
	s := openTest(t, dsn, Options{Create: true})
	if _, err := s.Configuration(t.Context(), store.DefaultConfigID); err != nil {
		t.Fatalf("the default configuration is missing after create: %v", err)
	}
	// Once made, the schema opens without Create, and not with it.
	openTest(t, dsn, Options{})
	if _, err := Open(t.Context(), dsn, Options{Create: true}); !errors.Is(err, ErrSchemaExists) {
		t.Fatalf("Open with Create of a database with the schema = %v, want ErrSchemaExists", err)
	}
}
