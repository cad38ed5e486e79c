package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mobileatwork/mobileatwork/server"
	"github.com/mobileatwork/mobileatwork/server/backends"
)

// storeFlags adds the database flags every command shares. The choice is
// made at init and recorded in the data directory; later commands need no
// flag, and one that disagrees with the record is refused.
func storeFlags(cmd *cobra.Command) {
	f := cmd.PersistentFlags()
	f.String("store", "", "database backend at init: sqlite (default) or postgres; later commands use the recorded one")
	f.String("dsn", "", "PostgreSQL DSN without a password (env MAW_DSN may hold one)")
	f.String("dsn-file", "", "file holding the PostgreSQL DSN, password included (env MAW_DSN_FILE)")
}

// storeOptions reads the database flags. A DSN is taken from --dsn-file,
// then MAW_DSN or --dsn; a password in --dsn is refused, since argv is
// readable by every local user.
func storeOptions(cmd *cobra.Command) (server.StoreOptions, error) {
	o := server.StoreOptions{
		Backend: v.GetString("store"),
		Openers: backends.Openers(),
	}
	if f := cmd.Flag("dsn"); f != nil && f.Changed && server.DSNHasPassword(f.Value.String()) {
		return o, errors.New("--dsn holds a password, which other users can read in the process list: use --dsn-file FILE or MAW_DSN")
	}
	o.DSN = v.GetString("dsn")
	if path := v.GetString("dsn-file"); path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return o, fmt.Errorf("--dsn-file: %w", err)
		}
		if o.DSN = strings.TrimSpace(string(b)); o.DSN == "" {
			return o, fmt.Errorf("--dsn-file %s is empty", path)
		}
	}
	return o, nil
}
