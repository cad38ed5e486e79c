package packaging

import (
	"encoding/xml"
	"fmt"
)

// pkgInfo is the PackageInfo of the component package, as pkgbuild writes it.
type pkgInfo struct {
	XMLName            xml.Name   `xml:"pkg-info"`
	FormatVersion      int        `xml:"format-version,attr"`
	Identifier         string     `xml:"identifier,attr"`
	Version            string     `xml:"version,attr"`
	InstallLocation    string     `xml:"install-location,attr"`
	Auth               string     `xml:"auth,attr"`
	Relocatable        bool       `xml:"relocatable,attr"`
	OverwritePerms     bool       `xml:"overwrite-permissions,attr"`
	PostinstallAction  string     `xml:"postinstall-action,attr"`
	Payload            payloadRef `xml:"payload"`
	BundleVersion      struct{}   `xml:"bundle-version"`
	UpgradeBundle      struct{}   `xml:"upgrade-bundle"`
	UpdateBundle       struct{}   `xml:"update-bundle"`
	AtomicUpdateBundle struct{}   `xml:"atomic-update-bundle"`
	StrictIdentifier   struct{}   `xml:"strict-identifier"`
	Relocate           struct{}   `xml:"relocate"`
	Scripts            scriptRefs `xml:"scripts"`
}

type payloadRef struct {
	NumberOfFiles int   `xml:"numberOfFiles,attr"`
	InstallKBytes int64 `xml:"installKBytes,attr"`
}

type scriptRefs struct {
	Preinstall  fileRef `xml:"preinstall"`
	Postinstall fileRef `xml:"postinstall"`
}

type fileRef struct {
	File string `xml:"file,attr"`
}

// distribution is the product archive's Distribution (installer-gui-script).
type distribution struct {
	XMLName        xml.Name     `xml:"installer-gui-script"`
	MinSpecVersion int          `xml:"minSpecVersion,attr"`
	Title          string       `xml:"title"`
	Options        distOptions  `xml:"options"`
	Domains        domains      `xml:"domains"`
	AllowedOS      allowedOS    `xml:"allowed-os-versions"`
	Check          installCheck `xml:"installation-check"`
	Script         cdata        `xml:"script"`
	Outline        outline      `xml:"choices-outline"`
	Choices        []choice     `xml:"choice"`
	PkgRefs        []distPkgRef `xml:"pkg-ref"`
	Product        product      `xml:"product"`
}

type distOptions struct {
	Customize         string `xml:"customize,attr"`
	RequireScripts    bool   `xml:"require-scripts,attr"`
	HostArchitectures string `xml:"hostArchitectures,attr"`
}

type domains struct {
	EnableAnywhere        bool `xml:"enable_anywhere,attr"`
	EnableCurrentUserHome bool `xml:"enable_currentUserHome,attr"`
	EnableLocalSystem     bool `xml:"enable_localSystem,attr"`
}

// allowedOS is checked by Installer against the target volume before it
// runs anything; installation-check gives the user a sentence instead of
// Installer's generic refusal.
type allowedOS struct {
	Versions []osVersion `xml:"os-version"`
}

type osVersion struct {
	Min string `xml:"min,attr"`
}

type installCheck struct {
	Script string `xml:"script,attr"`
}

type cdata struct {
	Text string `xml:",cdata"`
}

type outline struct {
	Lines []line `xml:"line"`
}

type line struct {
	Choice string `xml:"choice,attr"`
	Lines  []line `xml:"line"`
}

type choice struct {
	ID      string       `xml:"id,attr"`
	Visible *bool        `xml:"visible,attr,omitempty"`
	Title   string       `xml:"title,attr,omitempty"`
	PkgRefs []distPkgRef `xml:"pkg-ref"`
}

type distPkgRef struct {
	ID            string `xml:"id,attr"`
	Version       string `xml:"version,attr,omitempty"`
	OnConclusion  string `xml:"onConclusion,attr,omitempty"`
	InstallKBytes int64  `xml:"installKBytes,attr,omitempty"`
	Location      string `xml:",chardata"`
}

type product struct {
	ID      string `xml:"id,attr"`
	Version string `xml:"version,attr"`
}

func marshalXML(v any) ([]byte, error) {
	b, err := xml.MarshalIndent(v, "", "    ")
	if err != nil {
		return nil, fmt.Errorf("encode xml: %w", err)
	}
	return append(append([]byte(xml.Header), b...), '\n'), nil
}

func packageInfo(id, version string, files int, kbytes int64) ([]byte, error) {
	return marshalXML(pkgInfo{
		FormatVersion:     2,
		Identifier:        id,
		Version:           version,
		InstallLocation:   "/",
		Auth:              "root",
		OverwritePerms:    true,
		PostinstallAction: "none",
		Payload:           payloadRef{NumberOfFiles: files, InstallKBytes: kbytes},
		Scripts: scriptRefs{
			Preinstall:  fileRef{File: "./preinstall"},
			Postinstall: fileRef{File: "./postinstall"},
		},
	})
}

// MinimumOS is the oldest macOS the agent runs on: the Go toolchain stamps
// both slices with LC_BUILD_VERSION minos 12.0.
const MinimumOS = "12.0"

// minOSCheck is the installation-check script. system.version is the booted
// system, the one a local-system-only package installs onto.
const minOSCheck = `
function mawCheckOS() {
    if (system.compareVersions(system.version.ProductVersion, '` + MinimumOS + `') < 0) {
        my.result.title = 'macOS ` + MinimumOS + ` or later required';
        my.result.message = 'Mobile@Work needs macOS Monterey (` + MinimumOS + `) or later. This Mac runs macOS ' + system.version.ProductVersion + '. Update macOS, then open this package again.';
        my.result.type = 'Fatal';
        return false;
    }
    return true;
}
`

func distributionXML(title, id, version, componentDir string, kbytes int64) ([]byte, error) {
	hidden := false
	return marshalXML(distribution{
		MinSpecVersion: 2,
		Title:          title,
		Options:        distOptions{Customize: "never", RequireScripts: false, HostArchitectures: "arm64,x86_64"},
		Domains:        domains{EnableLocalSystem: true},
		AllowedOS:      allowedOS{Versions: []osVersion{{Min: MinimumOS}}},
		Check:          installCheck{Script: "mawCheckOS()"},
		Script:         cdata{Text: minOSCheck},
		Outline:        outline{Lines: []line{{Choice: "default", Lines: []line{{Choice: id}}}}},
		Choices: []choice{
			{ID: "default"},
			{ID: id, Visible: &hidden, PkgRefs: []distPkgRef{{ID: id}}},
		},
		PkgRefs: []distPkgRef{{
			ID: id, Version: version, OnConclusion: "none", InstallKBytes: kbytes,
			Location: "#" + componentDir,
		}},
		Product: product{ID: id, Version: version},
	})
}
