package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/mobileatwork/mobileatwork/internal/cli"
	"github.com/mobileatwork/mobileatwork/server"
)

func backupCmds() []*cobra.Command {
	backup := &cobra.Command{
		Use:   "backup --out DIR",
		Short: "Copy the tenant (database, keys, scripts, app files) to a new directory, while serve runs",
		Long: `backup writes a consistent copy of the tenant to DIR, which must not exist: the
database as of one instant (SQLite's VACUUM INTO, without stopping serve), then
the keys, the sealed scripts and the catalog's files. DIR holds the tenant's
private keys: keep it as safe as the data directory (it is made 0700).

A tenant kept in PostgreSQL gets its keys, files and store record copied, and
backup then fails saying so: dump the database with pg_dump, which copies it
consistently while serve runs.`,
		Args: cli.NoArgs,
		RunE: localOnly(func(s *server.Server, cmd *cobra.Command, _ []string) error {
			out := v.GetString("out")
			if out == "" {
				return fmt.Errorf("--out is required: a directory that does not exist yet")
			}
			if err := s.Backup(cmd.Context(), out); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "tenant backed up to %s\n", out)
			return nil
		}),
	}
	backup.Flags().String("out", "", "directory to create for the copy")
	restore := &cobra.Command{
		Use:   "restore --from DIR",
		Short: "Bring a backup back into a data directory that lost its database",
		Long: `restore copies the database of the backup DIR into the data directory, and the
keys and files it lacks. It refuses to replace a database that is there (stop
serve and move tenant.db aside first) and a backup of another tenant.
Devices enrolled before the backup check in again as they were; results they
sent after it are lost on the server unless the devices still hold them.
For a tenant kept in PostgreSQL, restore brings the keys, files and store
record; restore the database itself with pg_restore.`,
		Args: cli.NoArgs,
		RunE: hostOnly(func(cmd *cobra.Command, _ []string) error {
			from := v.GetString("from")
			if from == "" {
				return fmt.Errorf("--from is required: a directory made by `mobileatwork-server backup`")
			}
			if err := server.Restore(v.GetString("data"), from); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "tenant restored from %s into %s\n", from, v.GetString("data"))
			if b, err := server.BackupBackend(from); err == nil && b != server.BackendSQLite {
				fmt.Fprintf(cmd.ErrOrStderr(), "the database is in %s: restore it with pg_restore before serve\n", b)
			}
			return nil
		}),
	}
	restore.Flags().String("from", "", "backup directory")
	return []*cobra.Command{backup, restore}
}
