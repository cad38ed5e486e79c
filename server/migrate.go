package server

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/mobileatwork/mobileatwork/internal/atomicfile"
	"github.com/mobileatwork/mobileatwork/server/cas"
)

// The data directory's file trees before the content-addressed store: each
// kind of file had its own tree and its own names. Open moves what it finds
// there into the store; Backup and Restore still copy them, so a backup
// made before the store, or a file the move left behind, is not lost.
const (
	// legacyBlobsDir held sealed script blobs: SCRIPTID.blob for version 1,
	// SCRIPTID-vN.blob for version N.
	legacyBlobsDir = "blobs"
	// legacyAppsDir held catalog PKGs, APPID.pkg, and each app's icon and
	// screenshots, APPID/SHA256.
	legacyAppsDir = "apps"
)

// legacyID is what the old trees' names were made of.
var legacyID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// legacyTempAge is how old an unfinished write in an old tree must be
// before the move removes it rather than leave it to its writer.
const legacyTempAge = time.Hour

// migrateFiles moves the files of the old trees below dir into files, by
// the digest of their content: the store already records, for every
// script version, app and image, the SHA-256 of the file it names. Each
// move copies, reads the copy back against the digest and only then
// removes the old file, so a crash leaves every file in the old tree, the
// store or both, and the next Open carries on. Two processes opening the
// directory at once both succeed. An image whose content does not match
// the digest it is named by, and any name the old layout never wrote, are
// left where they are. Old directories are removed once empty.
func migrateFiles(dir string, files *cas.Store) error {
	var errs []error
	move := func(path, want string) {
		if _, err := files.MoveIn(path, want); err != nil &&
			!errors.Is(err, fs.ErrNotExist) && !errors.Is(err, cas.ErrDigest) {
			errs = append(errs, err)
		}
	}
	blobs := filepath.Join(dir, legacyBlobsDir)
	for _, e := range legacyEntries(blobs, &errs) {
		if name, ok := strings.CutSuffix(e.Name(), ".blob"); ok && e.Type().IsRegular() && legacyID.MatchString(name) {
			move(filepath.Join(blobs, e.Name()), "")
		}
	}
	apps := filepath.Join(dir, legacyAppsDir)
	for _, e := range legacyEntries(apps, &errs) {
		name, isPKG := strings.CutSuffix(e.Name(), ".pkg")
		switch {
		case isPKG && e.Type().IsRegular() && legacyID.MatchString(name):
			move(filepath.Join(apps, e.Name()), "")
		case e.IsDir() && legacyID.MatchString(e.Name()):
			images := filepath.Join(apps, e.Name())
			for _, img := range legacyEntries(images, &errs) {
				if img.Type().IsRegular() && cas.ValidID(img.Name()) {
					move(filepath.Join(images, img.Name()), img.Name())
				}
			}
			removeIfEmpty(images)
		}
	}
	removeIfEmpty(apps)
	removeIfEmpty(blobs)
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("move files into %s: %w", filesDir, err)
	}
	return nil
}

// legacyEntries lists an old directory after removing the unfinished
// writes a crash left in it; a missing directory is empty.
func legacyEntries(dir string, errs *[]error) []fs.DirEntry {
	if _, err := atomicfile.Sweep(dir, legacyTempAge, time.Now()); err != nil {
		*errs = append(*errs, err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		*errs = append(*errs, err)
	}
	return ents
}

// removeIfEmpty removes dir when nothing is left in it.
func removeIfEmpty(dir string) {
	if ents, err := os.ReadDir(dir); err == nil && len(ents) == 0 {
		os.Remove(dir)
	}
}
