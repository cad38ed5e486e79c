// Package inventory reads what is installed on a Mac: PKG receipts from
// /var/db/receipts and app bundles under /Applications, into a Report the
// agent sends when its Hash changes.
//
// Every plist read here may have been written by someone other than root
// (any admin can drop an app into /Applications), and the agent reading it
// runs as root. Files are therefore size-capped and refused unless regular;
// binary plists are indexed by the structural guard (CheckBinaryPlist) and
// the few wanted values are read from that index; XML plists are guarded and
// read in one flat token pass. Nothing recurses on file content, and a bad
// file becomes an entry in Report.Errors without affecting the rest.
//
// The general-purpose decoder (github.com/micromdm/plist) is not used on
// this path: it recurses without bound (a 40-byte self-referential file
// overflows its stack, which kills the process) and decodes every value,
// while an inventory needs five keys per file.
package inventory

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Receipt is one installed package, as recorded by the macOS installer.
type Receipt struct {
	PackageID      string    `json:"package_id"`
	Version        string    `json:"version"`
	InstallDate    time.Time `json:"install_date"`
	InstallPrefix  string    `json:"install_prefix"`
	InstallProcess string    `json:"install_process,omitempty"`
}

// App is one application bundle.
type App struct {
	BundleID string `json:"bundle_id"`
	Name     string `json:"name"`
	Version  string `json:"version"`
	Build    string `json:"build"`
	// Path is the bundle path as seen on the device, whatever Options.Root is.
	// For a symbolic link to a bundle it is the path of the link.
	Path string `json:"path"`
}

// FileError is a file that could not be read into the report.
type FileError struct {
	Path  string `json:"path"`
	Error string `json:"error"`
}

// Report is the inventory of one device.
type Report struct {
	Facts    *Facts      `json:"facts,omitempty"`
	Receipts []Receipt   `json:"receipts"`
	Apps     []App       `json:"apps"`
	Errors   []FileError `json:"errors"`
}

// MarshalJSON writes empty lists as [] rather than null, so the server never
// has to tell "nothing installed" from "not sent".
func (r Report) MarshalJSON() ([]byte, error) {
	type plain Report
	p := plain(r)
	p.Receipts = nonNil(p.Receipts)
	p.Apps = nonNil(p.Apps)
	p.Errors = nonNil(p.Errors)
	return json.Marshal(p)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// Hash returns the SHA-256 (hex) of a canonical encoding of the facts,
// receipts and apps, independent of their order. Errors are left out: they
// describe this read, not what is installed.
func (r Report) Hash() string {
	receipts := slices.Clone(r.Receipts)
	for i := range receipts {
		receipts[i].InstallDate = receipts[i].InstallDate.UTC()
	}
	slices.SortFunc(receipts, compareReceipts)
	apps := slices.Clone(r.Apps)
	slices.SortFunc(apps, compareApps)
	canon := struct {
		Facts    *Facts    `json:"facts"`
		Receipts []Receipt `json:"receipts"`
		Apps     []App     `json:"apps"`
	}{r.Facts, nonNil(receipts), nonNil(apps)}
	b, err := json.Marshal(canon)
	if err != nil {
		// Only strings and times are encoded: this cannot fail.
		panic(fmt.Sprintf("inventory: encode report for hashing: %v", err))
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Options configures Collect and NewCollector.
type Options struct {
	// Root is prefixed to every path read; "" means "/". Symbolic links
	// with absolute targets resolve on this machine, not under Root.
	Root string
	// Workers bounds concurrent file reads; 0 means 4 × GOMAXPROCS.
	Workers int
}

const (
	receiptsDir = "var/db/receipts"
	appsDir     = "Applications"
)

type jobKind uint8

const (
	jobReceipt jobKind = iota
	jobApp
)

// job is one receipt file or app bundle to read.
type job struct {
	kind    jobKind
	fsPath  string // on this machine, under Root
	devPath string // as seen on the device
}

func compareReceipts(a, b Receipt) int {
	return cmp.Or(
		strings.Compare(a.PackageID, b.PackageID),
		strings.Compare(a.InstallPrefix, b.InstallPrefix),
		strings.Compare(a.Version, b.Version),
		a.InstallDate.Compare(b.InstallDate),
		strings.Compare(a.InstallProcess, b.InstallProcess),
	)
}

func compareApps(a, b App) int {
	return cmp.Or(strings.Compare(a.Path, b.Path), strings.Compare(a.BundleID, b.BundleID))
}

// readDir lists dir without sorting (the report is sorted once at the end).
// A missing directory is empty; other failures are recorded.
func readDir(dir, devPath string, errs *[]FileError) []fs.DirEntry {
	f, err := os.Open(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		*errs = append(*errs, FileError{Path: devPath, Error: err.Error()})
		return nil
	}
	defer f.Close()
	entries, err := f.ReadDir(-1)
	if err != nil {
		*errs = append(*errs, FileError{Path: devPath, Error: fmt.Sprintf("list directory: %v", err)})
	}
	return entries
}

func listReceipts(root string, errs *[]FileError) []job {
	dir := filepath.Join(root, receiptsDir)
	entries := readDir(dir, "/"+receiptsDir, errs)
	jobs := make([]job, 0, len(entries))
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".plist") {
			continue
		}
		jobs = append(jobs, job{
			kind:    jobReceipt,
			fsPath:  filepath.Join(dir, e.Name()),
			devPath: path.Join("/", receiptsDir, e.Name()),
		})
	}
	return jobs
}

// listApps finds /Applications/*.app and /Applications/*/*.app (which covers
// Utilities). A symbolic link named *.app is taken as a bundle and read
// through; a symbolic link to a folder is not descended into, so links
// cannot make the scan list bundles twice or wander off the volume.
func listApps(root string, errs *[]FileError) []job {
	dir := filepath.Join(root, appsDir)
	var jobs []job
	for _, e := range readDir(dir, "/"+appsDir, errs) {
		if isBundle(e) {
			jobs = append(jobs, appJob(dir, "/"+appsDir, e.Name()))
			continue
		}
		if !e.IsDir() {
			continue
		}
		sub := filepath.Join(dir, e.Name())
		subDev := path.Join("/", appsDir, e.Name())
		for _, se := range readDir(sub, subDev, errs) {
			if isBundle(se) {
				jobs = append(jobs, appJob(sub, subDev, se.Name()))
			}
		}
	}
	return jobs
}

func isBundle(e fs.DirEntry) bool {
	name := e.Name()
	if len(name) <= len(".app") || !strings.EqualFold(name[len(name)-len(".app"):], ".app") {
		return false
	}
	return e.IsDir() || e.Type()&fs.ModeSymlink != 0
}

func appJob(dir, devDir, name string) job {
	return job{kind: jobApp, fsPath: filepath.Join(dir, name), devPath: path.Join(devDir, name)}
}

var errNoPackageID = errors.New("missing PackageIdentifier")

// readReceipt reads the receipt at p. It returns the status of the file
// read, nil when nothing was read, and the buffer for the next file.
func readReceipt(p string, buf []byte) (Receipt, fs.FileInfo, []byte, error) {
	b, fi, err := readPlistFile(p, buf)
	if err != nil {
		return Receipt{}, nil, b, fmt.Errorf("read receipt: %w", err)
	}
	r, err := parseReceipt(b)
	return r, fi, b, err
}

func parseReceipt(b []byte) (Receipt, error) {
	f := []field{
		{key: "PackageIdentifier"},
		{key: "PackageVersion"},
		{key: "InstallDate"},
		{key: "InstallPrefixPath"},
		{key: "InstallProcessName"},
	}
	if err := readFields(b, f); err != nil {
		return Receipt{}, fmt.Errorf("decode receipt: %w", err)
	}
	if f[0].str == "" {
		return Receipt{}, fmt.Errorf("decode receipt: %w", errNoPackageID)
	}
	return Receipt{
		PackageID: f[0].str,
		Version:   f[1].str,
		// Install dates are second-resolution facts; binary plists store them
		// as floats, whose noise must not change the report hash.
		InstallDate:    f[2].date.Truncate(time.Second),
		InstallPrefix:  f[3].str,
		InstallProcess: f[4].str,
	}, nil
}

// infoPlistPaths are tried in order: a macOS bundle, then an iOS app installed
// on Apple silicon, which is a wrapper whose WrappedBundle link points at a
// flat iOS bundle.
var infoPlistPaths = []string{"Contents/Info.plist", "WrappedBundle/Info.plist"}

var errNoInfoPlist = errors.New("missing Contents/Info.plist")

// readApp reads the bundle's Info.plist. It also returns which of
// infoPlistPaths it read and its status (nil when nothing was read), and the
// buffer for the next file.
func readApp(bundle, devPath string, buf []byte) (App, int, fs.FileInfo, []byte, error) {
	var (
		b   []byte
		fi  fs.FileInfo
		err error
		i   int
		rel string
	)
	for i, rel = range infoPlistPaths {
		b, fi, err = readPlistFile(filepath.Join(bundle, filepath.FromSlash(rel)), buf)
		if !errors.Is(err, fs.ErrNotExist) {
			break
		}
	}
	if errors.Is(err, fs.ErrNotExist) {
		return App{}, 0, nil, b, errNoInfoPlist
	}
	if err != nil {
		return App{}, 0, nil, b, fmt.Errorf("read %s: %w", rel, err)
	}
	a, err := parseApp(b, rel, devPath)
	return a, i, fi, b, err
}

func parseApp(b []byte, rel, devPath string) (App, error) {
	f := []field{
		{key: "CFBundleIdentifier"},
		{key: "CFBundleDisplayName"},
		{key: "CFBundleName"},
		{key: "CFBundleShortVersionString"},
		{key: "CFBundleVersion"},
	}
	if err := readFields(b, f); err != nil {
		return App{}, fmt.Errorf("decode %s: %w", rel, err)
	}
	name := cmp.Or(f[1].str, f[2].str)
	if name == "" {
		base := path.Base(devPath)
		name = base[:len(base)-len(".app")]
	}
	return App{
		BundleID: f[0].str,
		Name:     name,
		Version:  f[3].str,
		Build:    f[4].str,
		Path:     devPath,
	}, nil
}
