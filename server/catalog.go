package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"regexp"
	"strings"
	"unicode"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// ErrNotPKG is returned for an app file that is not a flat PKG.
var ErrNotPKG = errors.New("not a flat PKG (xar archive)")

// xarMagic opens every flat package: productbuild and pkgbuild write xar
// archives. A bundle package (a directory) or a disk image is refused.
var xarMagic = []byte("xar!")

// importPKG checks that src is a flat PKG and keeps it in the file store,
// streamed (PKGs run to gigabytes) and hashed on the way.
func (s *Server) importPKG(src string) (sum string, size int64, err error) {
	in, err := os.Open(src)
	if err != nil {
		return "", 0, fmt.Errorf("read package: %w", err)
	}
	defer in.Close()
	if fi, err := in.Stat(); err != nil {
		return "", 0, fmt.Errorf("read package: %w", err)
	} else if !fi.Mode().IsRegular() {
		return "", 0, fmt.Errorf("read package %s: %w", src, ErrNotPKG)
	}
	head := make([]byte, len(xarMagic))
	if _, err := io.ReadFull(in, head); err != nil || !bytes.Equal(head, xarMagic) {
		return "", 0, fmt.Errorf("read package %s: %w", src, ErrNotPKG)
	}
	if _, err := in.Seek(0, io.SeekStart); err != nil {
		return "", 0, fmt.Errorf("read package: %w", err)
	}
	return s.Files.PutFrom(in, "")
}

// appFileInUse reports whether a catalog app names the file sum as its PKG
// or as an image: the file store keeps one file per content, which apps
// may share.
func (s *Server) appFileInUse(ctx context.Context, sum string) (bool, error) {
	apps, err := s.Store.Apps(ctx)
	if err != nil {
		return false, err
	}
	for _, a := range apps {
		if a.FileSHA256 == sum {
			return true, nil
		}
		d, err := s.Store.AppDetails(ctx, a.ID)
		if err != nil {
			return false, err
		}
		if d.Icon != nil && d.Icon.SHA256 == sum {
			return true, nil
		}
		for _, img := range d.Screenshots {
			if img.SHA256 == sum {
				return true, nil
			}
		}
	}
	return false, nil
}

// AddAppRequest is what `app add` asks for.
type AddAppRequest struct {
	Name      string
	Kind      string // protocol.AppKindPackager, AppKindInHouse or AppKindAppsAndBooks
	PackageID string
	BundleID  string
	Version   string // minimum version that counts as installed; empty: any
	Priority  bool
	// File is the path of a flat PKG to keep with the entry, or empty.
	File string
}

// identifier is what package and bundle identifiers are made of: reverse
// DNS, with the hyphens and underscores vendors use.
var identifier = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$`)

// AddApp validates a catalog entry, keeps its PKG (if any) under the data
// directory, and stores it. Nothing is kept on error.
func (s *Server) AddApp(ctx context.Context, req AddAppRequest) (store.App, error) {
	a := store.App{
		Name: strings.TrimSpace(req.Name), Kind: req.Kind, PackageID: strings.TrimSpace(req.PackageID),
		BundleID: strings.TrimSpace(req.BundleID), Version: strings.TrimSpace(req.Version), Priority: req.Priority,
	}
	if err := checkApp(a, req.File); err != nil {
		return store.App{}, err
	}
	existing, err := s.Store.Apps(ctx)
	if err != nil {
		return store.App{}, fmt.Errorf("list apps: %w", err)
	}
	for _, e := range existing {
		if a.PackageID != "" && strings.EqualFold(e.PackageID, a.PackageID) ||
			a.BundleID != "" && strings.EqualFold(e.BundleID, a.BundleID) {
			return store.App{}, invalid("app %s (%q) already has this package or bundle id; see `mobileatwork-server app list`", e.ID, e.Name)
		}
	}
	a.ID, a.CreatedAt = newID("app"), s.now()
	if req.File != "" {
		a.FileSHA256, a.FileSize, err = s.importPKG(req.File)
		if errors.Is(err, ErrNotPKG) || errors.Is(err, fs.ErrNotExist) {
			return store.App{}, fmt.Errorf("%w: --file: %v", ErrInvalid, err)
		} else if err != nil {
			return store.App{}, err
		}
	}
	if err := s.Store.CreateApp(ctx, a); err != nil {
		if a.FileSHA256 != "" {
			if used, uerr := s.appFileInUse(ctx, a.FileSHA256); uerr == nil && !used {
				s.Files.Delete(a.FileSHA256)
			}
		}
		return store.App{}, fmt.Errorf("store app: %w", err)
	}
	return a, s.audit(ctx, "app.add", appObject(a), fmt.Sprintf("kind: %s; package id: %s; bundle id: %s; version: %s", a.Kind, orNone(a.PackageID), orNone(a.BundleID), orNone(a.Version)))
}

func checkApp(a store.App, file string) error {
	switch {
	case a.Name == "":
		return invalid("--name is required")
	case len(a.Name) > 256 || strings.IndexFunc(a.Name, unicode.IsControl) >= 0:
		return invalid("--name must be at most 256 characters, on one line")
	}
	switch a.Kind {
	case protocol.AppKindPackager, protocol.AppKindInHouse:
	case protocol.AppKindAppsAndBooks:
		// Apple installs these through MDM: the agent only recognises the bundle.
		if a.BundleID == "" {
			return invalid("an appsandbooks app is recognised by its bundle: give --bundle-id")
		}
		if file != "" {
			return invalid("an appsandbooks app is installed by Apple's MDM, not from a PKG: drop --file")
		}
	default:
		return invalid("--kind %q: want packager, inhouse or appsandbooks", a.Kind)
	}
	if a.PackageID == "" && a.BundleID == "" {
		return invalid("give --package-id (matched against PKG receipts) or --bundle-id (matched against app bundles)")
	}
	for _, f := range [][2]string{{"--package-id", a.PackageID}, {"--bundle-id", a.BundleID}} {
		if f[1] != "" && !identifier.MatchString(f[1]) {
			return invalid("%s %q: want a reverse-DNS identifier such as com.example.tool", f[0], f[1])
		}
	}
	if a.Version != "" && (len(a.Version) > 64 || !strings.ContainsAny(a.Version, "0123456789") ||
		strings.IndexFunc(a.Version, unicode.IsControl) >= 0) {
		return invalid("--version %q: want a version such as 1.2.3", a.Version)
	}
	return nil
}

// Apps returns the app catalog, the oldest entry first.
func (s *Server) Apps(ctx context.Context) ([]store.App, error) {
	apps, err := s.Store.Apps(ctx)
	if err != nil {
		return nil, fmt.Errorf("list apps: %w", err)
	}
	return nonNil(apps), nil
}
