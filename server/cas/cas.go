// Package cas keeps the server's files (sealed script blobs, catalog PKGs,
// app icons and screenshots) by the SHA-256 of their content. A file's name
// is its digest, so a file a signed check-in response names never changes
// under it, and the same content is kept once.
//
// Blobs is what the server uses; Store keeps them in one tree of the data
// directory, ROOT/ab/abcdef… where the first two hex digits of the digest
// fan the files out. The PostgreSQL backend keeps them in its database
// instead, so that replicas on several machines share them.
//
// Every write of Store is a temporary file, fsync, rename and fsync of the
// directory: a crash leaves either the whole file or none. The tree is
// shared by the server and the admin commands running beside it; two
// writers of the same content both succeed and leave one file.
package cas

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/mobileatwork/mobileatwork/internal/atomicfile"
)

// Sentinel errors, tested with errors.Is.
var (
	// ErrNotFound is returned for a file the store does not hold, and for an
	// id that cannot name one.
	ErrNotFound = errors.New("file not found")
	// ErrTooLarge is returned by Get for a file over its limit.
	ErrTooLarge = errors.New("file larger than the limit")
	// ErrDigest is returned by MoveIn when content and digest differ.
	ErrDigest = errors.New("content does not match its SHA-256")
)

// Blobs keeps files by the SHA-256 of their content. Writers of the same
// content all succeed and leave one copy; a failed write leaves nothing.
type Blobs interface {
	// Put keeps b and returns its id.
	Put(b []byte) (string, error)
	// PutFrom keeps what r yields, streamed and hashed on the way, and
	// returns its id and size. When want is not empty the content must
	// have that digest: otherwise ErrDigest, and nothing is kept.
	PutFrom(r io.Reader, want string) (string, int64, error)
	// Open opens the file of id to stream it (ErrNotFound when missing).
	Open(id string) (Blob, error)
	// Get reads the file of id, refusing one over limit bytes (ErrTooLarge).
	Get(id string, limit int64) ([]byte, error)
	// Has reports whether the file of id is kept.
	Has(id string) (bool, error)
	// Delete removes the file of id; a missing file is not an error. The
	// caller decides that no one uses it.
	Delete(id string) error
}

// Blob is an opened file: seekable, so a download can be served in ranges.
type Blob interface {
	io.ReadSeekCloser
	Size() int64
	// ModTime is when the content was first kept.
	ModTime() time.Time
}

var _ Blobs = (*Store)(nil)

// staleTemp is how old an unfinished write in the root must be before Open
// removes it: younger ones may belong to a writer in another process.
const staleTemp = 24 * time.Hour

// ValidID reports whether id can name a file: 64 lowercase hex digits, the
// SHA-256 of its content.
func ValidID(id string) bool {
	if len(id) != 2*sha256.Size {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// ID is the id content b is kept under: its SHA-256, in hex.
func ID(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// Store is a tree of files named by their digest.
type Store struct{ root string }

// Open makes the root (0700) if needed and removes unfinished writes a
// crash left there long ago.
func Open(root string) (*Store, error) {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("open file store: %w", err)
	}
	if _, err := atomicfile.Sweep(root, staleTemp, time.Now()); err != nil {
		return nil, fmt.Errorf("open file store: %w", err)
	}
	return &Store{root: root}, nil
}

// Path is where the file of id lives. Read it through Get or Open; the path
// is for tools and tests.
func (s *Store) Path(id string) (string, error) {
	if !ValidID(id) {
		return "", fmt.Errorf("file id %q: %w", id, ErrNotFound)
	}
	return filepath.Join(s.root, id[:2], id), nil
}

// fanOut makes the directory of id, durably: a file renamed into a
// directory whose own entry was never synced could vanish in a crash.
func (s *Store) fanOut(id string) (string, error) {
	dir := filepath.Join(s.root, id[:2])
	if _, err := os.Stat(dir); err == nil {
		return dir, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("store file: %w", err)
	}
	if err := atomicfile.SyncDir(s.root); err != nil {
		return "", fmt.Errorf("store file: %w", err)
	}
	return dir, nil
}

// Put keeps b and returns its id.
func (s *Store) Put(b []byte) (string, error) {
	id := ID(b)
	dir, err := s.fanOut(id)
	if err != nil {
		return "", err
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, id), b, 0o600); err != nil {
		return "", fmt.Errorf("store file: %w", err)
	}
	return id, nil
}

// PutFrom keeps what r yields, streamed to disk and hashed on the way (a
// PKG can be gigabytes), and returns its id and size. Nothing is left
// behind on error, nor when want is not empty and differs.
func (s *Store) PutFrom(r io.Reader, want string) (string, int64, error) {
	if want != "" && !ValidID(want) {
		return "", 0, fmt.Errorf("store file: file id %q: %w", want, ErrNotFound)
	}
	f, err := atomicfile.Create(s.root, "put", 0o600)
	if err != nil {
		return "", 0, fmt.Errorf("store file: %w", err)
	}
	defer f.Abort()
	h := sha256.New()
	size, err := io.Copy(io.MultiWriter(f, h), r)
	if err != nil {
		return "", 0, fmt.Errorf("store file: %w", err)
	}
	id := hex.EncodeToString(h.Sum(nil))
	if want != "" && id != want {
		return "", 0, fmt.Errorf("store file %s: %w (it is %s)", want, ErrDigest, id)
	}
	dir, err := s.fanOut(id)
	if err != nil {
		return "", 0, err
	}
	if err := f.Commit(filepath.Join(dir, id)); err != nil {
		return "", 0, fmt.Errorf("store file: %w", err)
	}
	return id, size, nil
}

// Open opens the file of id for reading, to stream it.
func (s *Store) Open(id string) (Blob, error) {
	p, err := s.Path(id)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("file %s: %w", id, ErrNotFound)
	} else if err != nil {
		return nil, fmt.Errorf("read file %s: %w", id, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("read file %s: %w", id, err)
	}
	return file{f, fi}, nil
}

// file is an opened file of the tree.
type file struct {
	*os.File
	fi fs.FileInfo
}

func (f file) Size() int64        { return f.fi.Size() }
func (f file) ModTime() time.Time { return f.fi.ModTime() }

// Get reads the file of id, refusing one over limit bytes. The bytes are as
// they are on disk: whoever needs them intact checks them against the
// digest they were promised.
func (s *Store) Get(id string, limit int64) ([]byte, error) {
	f, err := s.Open(id)
	if err != nil {
		return nil, err
	}
	return ReadAll(id, f, limit)
}

// ReadAll reads the opened file of id and closes it, refusing one over
// limit bytes.
func ReadAll(id string, f Blob, limit int64) ([]byte, error) {
	defer f.Close()
	if f.Size() > limit {
		return nil, fmt.Errorf("file %s: %w (%d bytes, the limit is %d)", id, ErrTooLarge, f.Size(), limit)
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read file %s: %w", id, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("file %s: %w (the limit is %d bytes)", id, ErrTooLarge, limit)
	}
	return b, nil
}

// Has reports whether the store holds the file of id.
func (s *Store) Has(id string) (bool, error) {
	p, err := s.Path(id)
	if err != nil {
		return false, err
	}
	fi, err := os.Stat(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("stat file %s: %w", id, err)
	}
	return fi.Mode().IsRegular(), nil
}

// Delete removes the file of id; a missing file is not an error. The store
// does not know who uses a file: the caller decides that no one does.
func (s *Store) Delete(id string) error {
	p, err := s.Path(id)
	if err != nil {
		return err
	}
	if err := os.Remove(p); errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		return fmt.Errorf("delete file %s: %w", id, err)
	}
	return atomicfile.SyncDir(filepath.Dir(p))
}

// MoveIn moves the file at path into the store and returns its id. When
// want is not empty the content must have that digest (ErrDigest, and
// nothing changes, otherwise). The file at path is removed only once the
// stored copy has been read back with the right digest, so a crash at any
// point leaves the content in one place or both, and MoveIn can run again;
// a copy in the store that does not match its name is replaced.
func (s *Store) MoveIn(path, want string) (string, error) {
	if want != "" && !ValidID(want) {
		return "", fmt.Errorf("move in %s: file id %q: %w", path, want, ErrNotFound)
	}
	id, err := hashFile(path)
	if err != nil {
		return "", fmt.Errorf("move in %s: %w", path, err)
	}
	if want != "" && id != want {
		return "", fmt.Errorf("move in %s: %w (it is %s)", path, ErrDigest, id)
	}
	dst, _ := s.Path(id)
	if got, err := hashFile(dst); err != nil || got != id {
		in, err := os.Open(path)
		if err != nil {
			return "", fmt.Errorf("move in %s: %w", path, err)
		}
		got, _, err := s.PutFrom(in, "")
		in.Close()
		if err != nil {
			return "", fmt.Errorf("move in %s: %w", path, err)
		}
		if got != id {
			return "", fmt.Errorf("move in %s: %w: it changed while being copied", path, ErrDigest)
		}
		if got, err := hashFile(dst); err != nil || got != id {
			return "", fmt.Errorf("move in %s: %w: the stored copy reads back as %s (%v)", path, ErrDigest, got, err)
		}
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("move in %s: %w", path, err)
	}
	// A directory gone meanwhile was emptied and removed by another mover.
	if err := atomicfile.SyncDir(filepath.Dir(path)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("move in %s: %w", path, err)
	}
	return id, nil
}

func hashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
