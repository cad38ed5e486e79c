package onboarding

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/micromdm/plist"
)

// ProfilesTwinDir is where, under the inventory root, the twin of the
// profiles database (the observer used off macOS) keeps one file per
// installed profile identifier.
const ProfilesTwinDir = "var/db/mobileatwork-profiles"

// maxProfilesOutput bounds what is parsed from `profiles`: a Mac holds a
// few dozen profiles, a few hundred KB at most.
const maxProfilesOutput = 8 << 20

// ParseProfilesList reads the XML property list `profiles list -output
// stdout-xml` prints: a dictionary from "_computerlevel" (device profiles)
// or a user name to that level's profiles. It returns every
// ProfileIdentifier found.
func ParseProfilesList(b []byte) (map[string]bool, error) {
	if len(b) > maxProfilesOutput {
		return nil, fmt.Errorf("profiles list: output of %d bytes is larger than %d", len(b), maxProfilesOutput)
	}
	out := map[string]bool{}
	if len(bytes.TrimSpace(b)) == 0 {
		return out, nil // no profile installed: profiles prints nothing
	}
	var levels map[string][]struct {
		ProfileIdentifier string `plist:"ProfileIdentifier"`
	}
	if err := plist.Unmarshal(b, &levels); err != nil {
		return nil, fmt.Errorf("profiles list: %w", err)
	}
	for _, list := range levels {
		for _, p := range list {
			if p.ProfileIdentifier != "" {
				out[p.ProfileIdentifier] = true
			}
		}
	}
	return out, nil
}

// DirProfiles is the twin of the macOS profiles database: each file name
// in Dir is the identifier of an installed profile. A missing directory
// means none.
type DirProfiles struct {
	Dir string
}

// InstalledProfiles lists the directory.
func (d DirProfiles) InstalledProfiles(context.Context) (map[string]bool, error) {
	out := map[string]bool{}
	ents, err := os.ReadDir(d.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list installed profiles: %w", err)
	}
	for _, e := range ents {
		if !e.IsDir() && e.Name()[0] != '.' {
			out[e.Name()] = true
		}
	}
	return out, nil
}
