// Package backends lists the store backends a binary can open beside the
// built-in SQLite: wired here once, so that every command opening a tenant
// (mobileatwork-server, mawload) opens the same ones.
package backends

import (
	"context"

	"github.com/mobileatwork/mobileatwork/server"
	"github.com/mobileatwork/mobileatwork/server/store"
	"github.com/mobileatwork/mobileatwork/server/store/postgres"
)

// Openers are the server.StoreOptions openers by backend name.
func Openers() map[string]server.Opener {
	return map[string]server.Opener{server.BackendPostgres: openPostgres}
}

// openPostgres opens a tenant whose init chose PostgreSQL, with the DSN
// recorded in its data directory (or given at init).
func openPostgres(ctx context.Context, _ string, c server.StoreConfig, create bool) (store.AllStorage, error) {
	return postgres.Open(ctx, c.DSN, postgres.Options{Create: create})
}
