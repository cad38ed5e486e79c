// Package pgtest gives tests a PostgreSQL schema of their own on the server
// that MAW_TEST_POSTGRES_DSN names, and drops it when the test ends, so
// tests of the PostgreSQL backend run in parallel on one database.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvDSN names the database the tests use; its role must be allowed to
// create schemas there.
const EnvDSN = "MAW_TEST_POSTGRES_DSN"

// Required tells whether a missing database fails the test rather than
// skipping it: in CI (CI=1) or when MAW_REQUIRE_POSTGRES=1.
func Required() bool {
	return os.Getenv("CI") == "1" || os.Getenv("CI") == "true" || os.Getenv("MAW_REQUIRE_POSTGRES") == "1"
}

// DSN returns a DSN whose search_path is a new empty schema, dropped with
// everything in it at the end of t. Without MAW_TEST_POSTGRES_DSN the test
// is skipped, or fails when Required.
func DSN(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvDSN)
	if base == "" {
		if Required() {
			t.Fatalf("%s is not set but PostgreSQL tests are required here (CI or MAW_REQUIRE_POSTGRES=1)", EnvDSN)
		}
		t.Skipf("PostgreSQL tests skipped: set %s (see .ci/run) to run them", EnvDSN)
	}
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	schema := "maw_test_" + hex.EncodeToString(b)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to %s: %v", EnvDSN, err)
	}
	defer conn.Close(ctx)
	// schema is made of hex digits only: safe to name in the statement.
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatalf("create test schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("drop test schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			t.Errorf("drop test schema %s: %v", schema, err)
		}
	})
	return WithSearchPath(base, schema)
}

// WithSearchPath returns dsn, a URL or key=value DSN, with its search_path
// set to schema.
func WithSearchPath(dsn, schema string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err == nil {
			q := u.Query()
			q.Set("search_path", schema)
			u.RawQuery = q.Encode()
			return u.String()
		}
	}
	return dsn + " search_path=" + schema
}
