package postgres

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mobileatwork/mobileatwork/server/cas"
)

// blobSchema keeps the tenant's files in the database, so that replicas on
// several machines share them: each content once, by its SHA-256, in
// chunks, so that no file (a PKG runs to gigabytes) is ever held whole.
// A chunk is written under a temporary key and renamed to its blob's
// digest once the whole content is hashed; the deferred foreign key makes
// a chunk without its blob impossible to commit. The chunks are stored
// out of line uncompressed: sealed blobs, PKGs and images do not compress.
const blobSchema = `CREATE TABLE blobs (
	digest     text COLLATE "C" PRIMARY KEY,
	size       bigint NOT NULL CHECK (size >= 0),
	chunk_size integer NOT NULL CHECK (chunk_size > 0),
	created_at timestamptz NOT NULL
);
CREATE TABLE blob_chunks (
	digest text COLLATE "C" NOT NULL REFERENCES blobs (digest) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
	n      integer NOT NULL CHECK (n >= 0),
	data   bytea NOT NULL,
	PRIMARY KEY (digest, n)
);
ALTER TABLE blob_chunks ALTER COLUMN data SET STORAGE EXTERNAL;`

const (
	// chunkSize is how much of a file one row holds: large enough that a
	// PKG is few rows, small enough to hold one in memory per download.
	chunkSize = 1 << 20
	// blobTimeout bounds each statement: the file store's calls take no
	// context, so a request that went away costs at most one chunk.
	blobTimeout = 30 * time.Second
)

// Blobs keeps the tenant's files in its database.
type Blobs struct {
	s         *Store
	chunkSize int
}

var _ cas.Blobs = (*Blobs)(nil)

// Blobs is the file store kept in s's database.
func (s *Store) Blobs() cas.Blobs { return &Blobs{s: s, chunkSize: chunkSize} }

func blobCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), blobTimeout)
}

func checkID(id string) error {
	if !cas.ValidID(id) {
		return fmt.Errorf("file id %q: %w", id, cas.ErrNotFound)
	}
	return nil
}

// Put keeps b and returns its id.
func (b *Blobs) Put(p []byte) (string, error) {
	id, _, err := b.PutFrom(bytes.NewReader(p), cas.ID(p))
	return id, err
}

// PutFrom keeps what r yields, a chunk at a time in one transaction, and
// returns its id and size. Content already kept is only hashed.
func (b *Blobs) PutFrom(r io.Reader, want string) (string, int64, error) {
	if want != "" {
		if err := checkID(want); err != nil {
			return "", 0, fmt.Errorf("store file: %w", err)
		}
		if ok, err := b.Has(want); err != nil {
			return "", 0, fmt.Errorf("store file: %w", err)
		} else if ok {
			return hashOnly(r, want)
		}
	}
	id, size, err := b.write(r, want)
	if err != nil {
		return "", 0, fmt.Errorf("store file: %w", err)
	}
	return id, size, nil
}

// hashOnly checks that r yields the content of want, already kept.
func hashOnly(r io.Reader, want string) (string, int64, error) {
	h := sha256.New()
	size, err := io.Copy(h, r)
	if err != nil {
		return "", 0, fmt.Errorf("store file: %w", err)
	}
	if id := hex.EncodeToString(h.Sum(nil)); id != want {
		return "", 0, fmt.Errorf("store file %s: %w (it is %s)", want, cas.ErrDigest, id)
	}
	return want, size, nil
}

// write streams r into chunks under a temporary key, then names them by
// the digest. A transaction that fails, or whose content is refused or
// already kept, is rolled back and leaves nothing. It is not run again on
// a deadlock, as other transactions are: r is consumed.
func (b *Blobs) write(r io.Reader, want string) (string, int64, error) {
	ctx, cancel := blobCtx()
	c, err := b.s.acquire(ctx)
	cancel()
	if err != nil {
		return "", 0, err
	}
	defer c.Release()
	// The transaction lasts as long as r does; each statement is bounded.
	tx, err := c.Begin(context.Background())
	if err != nil {
		return "", 0, busy(err)
	}
	defer tx.Rollback(context.Background())
	exec := func(sql string, args ...any) (int64, error) {
		ctx, cancel := blobCtx()
		defer cancel()
		tag, err := tx.Exec(ctx, sql, args...)
		return tag.RowsAffected(), busy(err)
	}
	tmp := make([]byte, 12)
	rand.Read(tmp)
	key := "upload-" + hex.EncodeToString(tmp)
	h := sha256.New()
	buf := make([]byte, b.chunkSize)
	var size int64
	for n := 0; ; n++ {
		k, err := io.ReadFull(r, buf)
		if k > 0 {
			h.Write(buf[:k])
			size += int64(k)
			if _, err := exec(`INSERT INTO blob_chunks (digest, n, data) VALUES ($1, $2, $3)`, key, n, buf[:k]); err != nil {
				return "", 0, err
			}
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		} else if err != nil {
			return "", 0, err
		}
	}
	id := hex.EncodeToString(h.Sum(nil))
	if want != "" && id != want {
		return "", 0, fmt.Errorf("%s: %w (it is %s)", want, cas.ErrDigest, id)
	}
	added, err := exec(`INSERT INTO blobs (digest, size, chunk_size, created_at) VALUES ($1, $2, $3, now())
ON CONFLICT (digest) DO NOTHING`, id, size, b.chunkSize)
	if err != nil {
		return "", 0, err
	}
	if added == 0 {
		return id, size, nil // another writer kept it meanwhile: rolled back
	}
	if _, err := exec(`UPDATE blob_chunks SET digest = $1 WHERE digest = $2`, id, key); err != nil {
		return "", 0, err
	}
	ctx, cancel = blobCtx()
	defer cancel()
	if err := tx.Commit(ctx); err != nil {
		return "", 0, busy(err)
	}
	return id, size, nil
}

// Open opens the file of id to stream it, a chunk at a time.
func (b *Blobs) Open(id string) (cas.Blob, error) {
	if err := checkID(id); err != nil {
		return nil, err
	}
	ctx, cancel := blobCtx()
	defer cancel()
	f := &blob{b: b, id: id, n: -1}
	err := b.s.db().QueryRow(ctx, `SELECT size, chunk_size, created_at FROM blobs WHERE digest = $1`, id).
		Scan(&f.size, &f.chunkSize, &f.created)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("file %s: %w", id, cas.ErrNotFound)
	} else if err != nil {
		return nil, fmt.Errorf("read file %s: %w", id, err)
	}
	return f, nil
}

// Get reads the file of id, refusing one over limit bytes.
func (b *Blobs) Get(id string, limit int64) ([]byte, error) {
	f, err := b.Open(id)
	if err != nil {
		return nil, err
	}
	return cas.ReadAll(id, f, limit)
}

// Has reports whether the file of id is kept.
func (b *Blobs) Has(id string) (bool, error) {
	if err := checkID(id); err != nil {
		return false, err
	}
	ctx, cancel := blobCtx()
	defer cancel()
	var ok bool
	if err := b.s.db().QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM blobs WHERE digest = $1)`, id).Scan(&ok); err != nil {
		return false, fmt.Errorf("stat file %s: %w", id, err)
	}
	return ok, nil
}

// Delete removes the file of id and its chunks; a missing file is not an
// error.
func (b *Blobs) Delete(id string) error {
	if err := checkID(id); err != nil {
		return err
	}
	ctx, cancel := blobCtx()
	defer cancel()
	if _, err := b.s.db().Exec(ctx, `DELETE FROM blobs WHERE digest = $1`, id); err != nil {
		return fmt.Errorf("delete file %s: %w", id, err)
	}
	return nil
}

// Missing lists the files the tenant's rows name (script versions, catalog
// PKGs, icons and screenshots) that the database does not hold.
func (b *Blobs) Missing() ([]string, error) {
	ctx, cancel := blobCtx()
	defer cancel()
	rows, err := b.s.db().Query(ctx, `SELECT d FROM (
	SELECT blob_sha256 AS d FROM scripts
	UNION SELECT blob_sha256 FROM script_versions
	UNION SELECT file_sha256 FROM apps
	UNION SELECT icon ->> 'sha256' FROM app_details
	UNION SELECT jsonb_path_query(screenshots, '$[*].sha256') #>> '{}' FROM app_details
) named
WHERE d <> '' AND NOT EXISTS (SELECT 1 FROM blobs WHERE digest = d)
ORDER BY d`)
	if err != nil {
		return nil, fmt.Errorf("list missing files: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("list missing files: %w", err)
	}
	return ids, nil
}

// blob is an opened file: it holds the chunk last read.
type blob struct {
	b         *Blobs
	id        string
	size      int64
	chunkSize int64
	created   time.Time
	pos       int64
	n         int64 // the chunk in data, -1 for none
	data      []byte
}

func (f *blob) Size() int64        { return f.size }
func (f *blob) ModTime() time.Time { return f.created }
func (f *blob) Close() error       { f.data = nil; return nil }

func (f *blob) Read(p []byte) (int, error) {
	if f.pos >= f.size {
		return 0, io.EOF
	}
	if n := f.pos / f.chunkSize; n != f.n {
		if err := f.load(n); err != nil {
			return 0, err
		}
	}
	k := copy(p, f.data[f.pos-f.n*f.chunkSize:])
	f.pos += int64(k)
	return k, nil
}

// load reads chunk n, which must be as long as the blob's size says.
func (f *blob) load(n int64) error {
	ctx, cancel := blobCtx()
	defer cancel()
	f.data, f.n = nil, -1
	var data []byte
	err := f.b.s.db().QueryRow(ctx, `SELECT data FROM blob_chunks WHERE digest = $1 AND n = $2`, f.id, n).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("read file %s: chunk %d: %w (deleted while read)", f.id, n, cas.ErrNotFound)
	} else if err != nil {
		return fmt.Errorf("read file %s: %w", f.id, err)
	}
	if want := min(f.chunkSize, f.size-n*f.chunkSize); int64(len(data)) != want {
		return fmt.Errorf("read file %s: chunk %d holds %d bytes, not %d", f.id, n, len(data), want)
	}
	f.data, f.n = data, n
	return nil
}

func (f *blob) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		offset += f.pos
	case io.SeekEnd:
		offset += f.size
	case io.SeekStart:
	default:
		return f.pos, fmt.Errorf("seek file %s: bad whence %d", f.id, whence)
	}
	if offset < 0 {
		return f.pos, fmt.Errorf("seek file %s: negative position %d", f.id, offset)
	}
	f.pos = offset
	return offset, nil
}
