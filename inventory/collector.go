package inventory

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Collect reads receipts and apps under opt.Root. Missing directories give
// empty lists; unreadable or malformed files are listed in Report.Errors.
// It fails only when nothing can be read: Root is not a directory, or ctx
// ends first. Every file is read; a caller that collects again and again
// keeps a Collector instead.
func Collect(ctx context.Context, opt Options) (Report, error) {
	rep, _, err := NewCollector(opt).Collect(ctx)
	return rep, err
}

// Collector collects the inventory again and again, re-reading only the
// files that changed since its previous collection. Per receipt and per
// app bundle it keeps the status of the file it read (fileKey) and what
// that file contributed to the report; a file whose status is the same is
// not opened again. The report is the one Collect gives for the same files.
//
// The cache lives in memory only: it is a few hundred kilobytes for a large
// Mac, a restart reads everything once (what a persisted cache would save
// is the parsing, the cheaper half of a full collection next to opening
// and reading thousands of files), and a copy on disk would be one more
// root-read file to distrust.
type Collector struct {
	opt Options

	mu    sync.Mutex        // one collection at a time
	cache map[string]*entry // by device path
	gen   uint64            // of the latest collection, to sweep the cache
}

// Stats describes one collection.
type Stats struct {
	// Files is how many receipts and bundles were found.
	Files int
	// Read is how many of them had their file read and parsed; the others
	// were unchanged since the previous collection (or had no readable
	// file, which is tried again each time).
	Read int
}

// NewCollector returns a Collector of what is under opt.Root.
func NewCollector(opt Options) *Collector {
	return &Collector{opt: opt}
}

// entry is what one receipt or bundle contributed to a report: exactly one
// of receipt, app and err is set.
type entry struct {
	key     fileKey
	cached  bool   // key identifies the content read; false: read it again
	gen     uint64 // the latest collection that found it
	receipt *Receipt
	app     *App
	err     *FileError
}

// fileKey identifies the content of a file without reading it: a file
// rewritten, replaced or (through a symbolic link) swapped for another gets
// another key. Where the platform gives them, device, inode and change time
// are part of it; the change time moves on every write and chmod, whatever
// the writer does to the modification time.
type fileKey struct {
	which    uint8  // index in infoPlistPaths, for bundles
	mode     uint32 // as the platform gives it: type and permissions
	size     int64
	mtime    int64
	ctime    int64
	dev, ino uint64
}

// infoKey is the part of a key every platform gives.
func infoKey(fi fs.FileInfo, which int) fileKey {
	return fileKey{which: uint8(which), mode: uint32(fi.Mode()), size: fi.Size(), mtime: fi.ModTime().UnixNano()}
}

// Collect reads the inventory, reusing what the previous collection read
// from files that did not change; see the package function Collect for what
// fails. A failed collection leaves the cache as it was.
func (c *Collector) Collect(ctx context.Context) (Report, Stats, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	root := cmp.Or(c.opt.Root, "/")
	if err := ctx.Err(); err != nil {
		return Report{}, Stats{}, fmt.Errorf("collect inventory: %w", err)
	}
	if fi, err := os.Stat(root); err != nil {
		return Report{}, Stats{}, fmt.Errorf("collect inventory: %w", err)
	} else if !fi.IsDir() {
		return Report{}, Stats{}, fmt.Errorf("collect inventory: root %s is not a directory", root)
	}

	var errs []FileError
	jobs := listReceipts(root, &errs)
	nReceipts := len(jobs)
	jobs = append(jobs, listApps(root, &errs)...)
	entries := make([]*entry, len(jobs))

	workers := c.opt.Workers
	if workers <= 0 {
		workers = 4 * runtime.GOMAXPROCS(0)
	}
	workers = min(workers, len(jobs))
	var next, read atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			var buf []byte
			for {
				i := int(next.Add(1)) - 1
				if i >= len(jobs) || ctx.Err() != nil {
					return
				}
				var parsed bool
				entries[i], parsed, buf = c.run(jobs[i], buf)
				if parsed {
					read.Add(1)
				}
				if cap(buf) > maxKeptBuffer {
					buf = nil
				}
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return Report{}, Stats{}, fmt.Errorf("collect inventory: %w", err)
	}

	// Only what was found this time is kept: files gone leave the cache.
	// The map is updated in place rather than rebuilt, so an unchanged
	// collection does not allocate one per check-in.
	if c.cache == nil {
		c.cache = make(map[string]*entry, len(jobs))
	}
	c.gen++
	rep := Report{Receipts: make([]Receipt, 0, nReceipts), Apps: make([]App, 0, len(jobs)-nReceipts), Errors: errs}
	for i, e := range entries {
		if e.cached {
			e.gen = c.gen
			c.cache[jobs[i].devPath] = e
		}
		switch {
		case e.err != nil:
			rep.Errors = append(rep.Errors, *e.err)
		case e.app != nil:
			rep.Apps = append(rep.Apps, *e.app)
		default:
			rep.Receipts = append(rep.Receipts, *e.receipt)
		}
	}
	maps.DeleteFunc(c.cache, func(_ string, e *entry) bool { return e.gen != c.gen })
	rep.Errors = nonNil(rep.Errors)
	slices.SortFunc(rep.Receipts, compareReceipts)
	slices.SortFunc(rep.Apps, compareApps)
	slices.SortFunc(rep.Errors, func(a, b FileError) int {
		return cmp.Or(strings.Compare(a.Path, b.Path), strings.Compare(a.Error, b.Error))
	})
	return rep, Stats{Files: len(jobs), Read: int(read.Load())}, nil
}

// run gives the entry of one job: the previous one when the file's key is
// unchanged, otherwise one read now (parsed reports whether a file's
// content was). buf is the worker's read buffer, returned for the next job.
func (c *Collector) run(j job, buf []byte) (e *entry, parsed bool, _ []byte) {
	prev := c.cache[j.devPath]
	if j.kind == jobReceipt {
		if prev != nil {
			if k, err := statKey(j.fsPath, 0); err == nil && k == prev.key {
				return prev, false, buf
			}
		}
		r, fi, buf, err := readReceipt(j.fsPath, buf)
		e := &entry{receipt: &r}
		if err != nil {
			e = &entry{err: &FileError{Path: j.devPath, Error: err.Error()}}
		}
		if fi != nil {
			e.key, e.cached = keyOf(fi, 0), true
		}
		return e, e.cached, buf
	}
	if prev != nil {
		if k, ok := bundleKey(j.fsPath); ok && k == prev.key {
			return prev, false, buf
		}
	}
	a, which, fi, buf, err := readApp(j.fsPath, j.devPath, buf)
	e = &entry{app: &a}
	if err != nil {
		e = &entry{err: &FileError{Path: j.devPath, Error: err.Error()}}
	}
	if fi != nil {
		e.key, e.cached = keyOf(fi, which), true
	}
	return e, e.cached, buf
}

// bundleKey is the key of the Info.plist readApp would read now: the
// first of infoPlistPaths that exists. An Info.plist appearing where an
// earlier path is tried therefore changes the key too.
func bundleKey(bundle string) (fileKey, bool) {
	for i, rel := range infoPlistPaths {
		k, err := statKey(filepath.Join(bundle, filepath.FromSlash(rel)), i)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		return k, err == nil
	}
	return fileKey{}, false
}

// unixNano is t in nanoseconds since 1970, for keys.
func unixNano(sec, nsec int64) int64 { return time.Unix(sec, nsec).UnixNano() }
