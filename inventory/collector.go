package inventory

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
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
	c := NewCollector(opt)
	c.once = true
	rep, _, err := c.Collect(ctx)
	return rep, err
}

// Collector collects the inventory again and again, re-reading only the
// files that changed since its previous collection. Per receipt and per
// app bundle it keeps the status of the file it read (fileKey) and what
// that file contributed to the report; a file whose status is the same is
// not opened again. The report is the one Collect gives for the same files.
//
// The cache is kept compact, as the daemon holds it between check-ins:
// one sorted array of fixed-size entries and one string holding all their
// text (about 150 bytes a file, under a megabyte for 6,000 files, in two
// allocations the garbage collector scans in no time). It lives in memory
// only: a restart reads everything once (what a persisted cache would save
// is the parsing, the cheaper part of a full collection next to opening
// and reading thousands of files), and a copy on disk would be one more
// root-read file to distrust.
type Collector struct {
	opt Options

	mu    sync.Mutex // one collection at a time
	cache []entry    // sorted by name
	once  bool       // no collection follows: keep no cache
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

type entryKind uint8

const (
	entryReceipt entryKind = iota
	entryApp
	entryError
)

// entry is what one receipt or bundle contributed to a report. Its strings
// are slices of text, its name first (see cacheName): for a receipt the
// package id, version, install prefix and install process; for an app the
// bundle id, name, version and build; for an error the message.
type entry struct {
	text   string
	ends   [4]uint32 // where the name and the first three values end in text
	key    fileKey
	date   int64 // receipt install date, Unix seconds
	kind   entryKind
	cached bool // key identifies the content read; false: read it again
}

func newEntry(kind entryKind, name string, values ...string) entry {
	var b strings.Builder
	n := len(name)
	for _, v := range values {
		n += len(v)
	}
	b.Grow(n)
	b.WriteString(name)
	e := entry{kind: kind}
	for i, v := range values {
		e.ends[i] = uint32(b.Len())
		b.WriteString(v)
	}
	for i := len(values); i < len(e.ends); i++ {
		e.ends[i] = uint32(b.Len())
	}
	e.text = b.String()
	return e
}

func receiptEntry(name string, r Receipt) entry {
	e := newEntry(entryReceipt, name, r.PackageID, r.Version, r.InstallPrefix, r.InstallProcess)
	e.date = r.InstallDate.Unix() // already whole seconds, in UTC
	return e
}

func appEntry(a App) entry {
	return newEntry(entryApp, a.Path, a.BundleID, a.Name, a.Version, a.Build)
}

func errorEntry(name string, err error) entry {
	return newEntry(entryError, name, err.Error())
}

// str is the i-th string of e: 0 the name, then the values.
func (e *entry) str(i int) string {
	start, end := uint32(0), uint32(len(e.text))
	if i > 0 {
		start = e.ends[i-1]
	}
	if i < len(e.ends) {
		end = e.ends[i]
	}
	return e.text[start:end]
}

// name is what the cache is sorted by: the device path of a bundle, the
// file name of a receipt (they are most of the cache; their directory need
// not be stored 5,000 times).
func (e *entry) name() string { return e.str(0) }

// devPath is the device path of e.
func (e *entry) devPath() string {
	if n := e.name(); !strings.HasPrefix(n, "/") {
		return receiptsDevDir + n
	}
	return e.name()
}

const receiptsDevDir = "/" + receiptsDir + "/"

// cacheName is the name of the entry of devPath: a receipt's file name
// holds no slash, while every bundle path starts with one.
func cacheName(devPath string) string { return strings.TrimPrefix(devPath, receiptsDevDir) }

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
	var next, nread atomic.Int64
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
					nread.Add(1)
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

	rep := Report{Receipts: make([]Receipt, 0, nReceipts), Apps: make([]App, 0, len(jobs)-nReceipts), Errors: errs}
	cached := 0
	for _, e := range entries {
		if e.cached {
			cached++
		}
		switch e.kind {
		case entryError:
			rep.Errors = append(rep.Errors, FileError{Path: e.devPath(), Error: e.str(1)})
		case entryApp:
			rep.Apps = append(rep.Apps, App{BundleID: e.str(1), Name: e.str(2), Version: e.str(3), Build: e.str(4), Path: e.name()})
		default:
			rep.Receipts = append(rep.Receipts, Receipt{
				PackageID: e.str(1), Version: e.str(2), InstallDate: time.Unix(e.date, 0).UTC(),
				InstallPrefix: e.str(3), InstallProcess: e.str(4),
			})
		}
	}
	read := int(nread.Load())
	if !c.once && (read > 0 || cached != len(c.cache)) {
		c.cache = compact(entries, cached)
	}
	rep.Errors = nonNil(rep.Errors)
	slices.SortFunc(rep.Receipts, compareReceipts)
	slices.SortFunc(rep.Apps, compareApps)
	slices.SortFunc(rep.Errors, func(a, b FileError) int {
		return cmp.Or(strings.Compare(a.Path, b.Path), strings.Compare(a.Error, b.Error))
	})
	return rep, Stats{Files: len(jobs), Read: read}, nil
}

// compact is the cache of a collection's entries: only what was found this
// time (files gone leave it), sorted by name, with all text in one string,
// so that what a collection allocated between the entries it keeps can be
// given back whole.
func compact(entries []*entry, n int) []entry {
	cache := make([]entry, 0, n)
	size := 0
	for _, e := range entries {
		if e.cached {
			cache = append(cache, *e)
			size += len(e.text)
		}
	}
	slices.SortFunc(cache, func(a, b entry) int { return strings.Compare(a.name(), b.name()) })
	var b strings.Builder
	b.Grow(size)
	for i := range cache {
		b.WriteString(cache[i].text)
	}
	text := b.String()
	for i := range cache {
		n := len(cache[i].text)
		cache[i].text, text = text[:n], text[n:]
	}
	return cache
}

// lookup is the cached entry of devPath, or nil.
func (c *Collector) lookup(devPath string) *entry {
	name := cacheName(devPath)
	i, ok := slices.BinarySearchFunc(c.cache, name, func(e entry, n string) int { return strings.Compare(e.name(), n) })
	if !ok {
		return nil
	}
	return &c.cache[i]
}

// run gives the entry of one job: the cached one when the file's key is
// unchanged, otherwise one read now (parsed reports whether a file's
// content was). buf is the worker's read buffer, returned for the next job.
func (c *Collector) run(j job, buf []byte) (_ *entry, parsed bool, _ []byte) {
	if prev := c.lookup(j.devPath); prev != nil && unchanged(j, prev) {
		return prev, false, buf
	}
	var (
		e     = new(entry)
		fi    fs.FileInfo
		which int
		err   error
	)
	if j.kind == jobReceipt {
		var r Receipt
		if r, fi, buf, err = readReceipt(j.fsPath, buf); err == nil {
			*e = receiptEntry(cacheName(j.devPath), r)
		}
	} else {
		var a App
		if a, which, fi, buf, err = readApp(j.fsPath, j.devPath, buf); err == nil {
			*e = appEntry(a)
		}
	}
	if err != nil {
		*e = errorEntry(cacheName(j.devPath), err)
	}
	if fi != nil {
		e.key, e.cached = keyOf(fi, which), true
	}
	return e, e.cached, buf
}

// unchanged reports whether the file of j still has the key of prev.
func unchanged(j job, prev *entry) bool {
	if j.kind == jobReceipt {
		k, err := statKey(j.fsPath, 0)
		return err == nil && k == prev.key
	}
	k, ok := bundleKey(j.fsPath)
	return ok && k == prev.key
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
