package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/mobileatwork/mobileatwork/internal/atomicfile"
	"github.com/mobileatwork/mobileatwork/server/pki"
)

// snapshotter is a store that can copy itself consistently while in use.
type snapshotter interface {
	Snapshot(ctx context.Context, path string) error
}

// fileDirs are the data directory's file trees a backup copies beside the
// database: the keys and the file store, and the trees the file store
// replaced, so a backup made before it restores (the next Open moves their
// files into the store) and nothing left in them is lost.
var fileDirs = []string{pkiDir, filesDir, legacyBlobsDir, legacyAppsDir}

// Backup writes a consistent copy of the tenant to out, a directory that
// must not exist, while the server keeps serving: the database first (one
// transaction's view), then the files. Files are written before the rows
// that name them, so every file the copied database names is copied too.
//
// A PostgreSQL database is not copied: its own tools (pg_dump) do that
// while it serves, the tenant's files included, which it keeps. Backup
// still copies the keys and the store record, then fails with one line
// saying so, so that no one takes the directory for a whole backup.
func (s *Server) Backup(ctx context.Context, out string) error {
	if _, err := os.Stat(out); err == nil {
		return invalid("backup: %s exists; give a new directory", out)
	}
	if err := os.MkdirAll(out, 0o700); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	snap, ok := s.Store.(snapshotter)
	if ok {
		if err := snap.Snapshot(ctx, filepath.Join(out, dbFile)); err != nil {
			return fmt.Errorf("backup: %w", err)
		}
	}
	dirs := fileDirs
	if _, inDB := s.Store.(blobKeeper); inDB {
		dirs = []string{pkiDir} // files/ left from before was copied in at open
	}
	for _, d := range dirs {
		if err := copyTree(filepath.Join(s.Data, d), filepath.Join(out, d)); err != nil {
			return fmt.Errorf("backup %s: %w", d, err)
		}
	}
	if err := copyStoreRecord(s.Data, out); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err := atomicfile.SyncDir(out); err != nil {
		return err
	}
	if !ok {
		return invalid("backup: keys copied to %s, but not the database, which is in PostgreSQL with the tenant's files: back it up with pg_dump (e.g. pg_dump --format=custom --file %s)", out, filepath.Join(out, "tenant.dump"))
	}
	return nil
}

// copyStoreRecord copies the store record, if src has one and dst not.
func copyStoreRecord(src, dst string) error {
	b, err := os.ReadFile(filepath.Join(src, storeFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(dst, storeFile)); err == nil {
		return nil
	}
	return atomicfile.WriteFile(filepath.Join(dst, storeFile), b, 0o600)
}

// BackupBackend tells which backend the tenant or backup in dir is kept
// in, from its store record.
func BackupBackend(dir string) (string, error) {
	c, err := readStoreConfig(dir)
	return c.Backend, err
}

// Restore brings a backup made by Backup into the data directory dir. It
// refuses to replace a database that is there (move it aside first), and a
// backup of another tenant (its CA differs from the keys in dir). Files the
// data directory lacks are copied; those it has are kept. A backup of a
// PostgreSQL tenant holds no database: Restore brings its keys and store
// record, and the database, files included, is restored with pg_restore.
// Files in an older such backup are brought too: the next open copies
// those the database lacks into it.
func Restore(dir, from string) error {
	rec, err := readStoreConfig(from)
	if err != nil {
		return invalid("restore: %s is not a backup: %v", from, err)
	}
	var src []byte
	if rec.Backend == BackendSQLite {
		if fi, err := os.Stat(filepath.Join(dir, dbFile)); err == nil && fi.Size() > 0 {
			return invalid("restore: %s already holds a database; stop the server and move %s aside first", dir, dbFile)
		}
		if src, err = os.ReadFile(filepath.Join(from, dbFile)); err != nil {
			return invalid("restore: %s is not a backup: %v", from, err)
		}
	}
	backupCA, err := os.ReadFile(filepath.Join(from, pkiDir, pki.CACertFile))
	if err != nil {
		return invalid("restore: %s holds no tenant keys: %v", from, err)
	}
	if ca, err := os.ReadFile(filepath.Join(dir, pkiDir, pki.CACertFile)); err == nil && !bytes.Equal(ca, backupCA) {
		return invalid("restore: %s is a backup of another tenant (its CA differs from the one in %s)", from, dir)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	for _, d := range fileDirs {
		if err := copyTree(filepath.Join(from, d), filepath.Join(dir, d)); err != nil {
			return fmt.Errorf("restore %s: %w", d, err)
		}
	}
	if err := copyStoreRecord(from, dir); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if rec.Backend != BackendSQLite {
		return atomicfile.SyncDir(dir)
	}
	// Stale WAL files of the lost database must not be replayed into the
	// restored one.
	for _, suffix := range []string{"-wal", "-shm"} {
		if err := os.Remove(filepath.Join(dir, dbFile+suffix)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("restore: %w", err)
		}
	}
	return atomicfile.WriteFile(filepath.Join(dir, dbFile), src, 0o600)
}

// copyTree copies the regular files below src to dst, keeping modes and
// skipping files dst already has; a missing src is an empty tree.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if errors.Is(err, os.ErrNotExist) && path == src {
			return nil
		}
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o700)
		}
		if !d.Type().IsRegular() {
			return nil // no links or devices in a data directory
		}
		if atomicfile.IsTemp(d.Name()) {
			return nil // a write in progress, not a file yet
		}
		if _, err := os.Stat(target); err == nil {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		in, err := os.Open(path)
		if err != nil {
			return err
		}
		defer in.Close()
		// Streamed: a catalog PKG can be gigabytes.
		out, err := atomicfile.Create(filepath.Dir(target), filepath.Base(target), fi.Mode().Perm())
		if err != nil {
			return err
		}
		defer out.Abort()
		if _, err := io.Copy(out, in); err != nil {
			return err
		}
		return out.Commit(target)
	})
}
