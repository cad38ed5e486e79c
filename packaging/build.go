// Package packaging builds the agent's installer: an Apple flat package (.pkg)
// holding a universal binary, its launchd jobs and install scripts, written in
// pure Go so release builds run on Linux CI without pkgbuild, xar or mkbom.
//
// The product archive contains a top-level Distribution and one component
// package, mobileatwork.pkg/, with Bom, Payload (gzip'd odc cpio), Scripts
// and PackageInfo, the layout productbuild produces. See README.md for
// signing with a Developer ID Installer certificate on a Mac.
package packaging

import (
	"bytes"
	"compress/gzip"
	"crypto/rsa"
	"crypto/x509"
	"debug/macho"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/mobileatwork/mobileatwork/internal/atomicfile"
	"github.com/mobileatwork/mobileatwork/packaging/bom"
	"github.com/mobileatwork/mobileatwork/packaging/cpio"
	"github.com/mobileatwork/mobileatwork/packaging/launchd"
	machofat "github.com/mobileatwork/mobileatwork/packaging/macho"
	"github.com/mobileatwork/mobileatwork/packaging/xar"
)

// Identity of the package as Installer and pkgutil --pkgs see it.
const (
	Identifier = "com.mobileatwork.agent"
	Title      = "Mobile@Work"
	// ComponentDir is the component package inside the product archive.
	ComponentDir = "mobileatwork.pkg"
)

// ErrVersion reports a version Installer cannot compare.
var ErrVersion = errors.New("packaging: invalid version")

var versionRE = regexp.MustCompile(`^[0-9][0-9A-Za-z.+_-]*$`)

// Options describes one build.
type Options struct {
	// Version of the agent; a leading "v" (as in git tags) is dropped.
	Version string
	// ARM64 and AMD64 are the thin darwin executables of cmd/mobileatwork.
	ARM64, AMD64 []byte
	// Created stamps every file, so two builds of one commit are identical.
	Created time.Time
	// Signer adds a productsign-style signature; nil leaves the package unsigned.
	Signer *xar.Signer
	// ARM64File and AMD64File name where ARM64 and AMD64 came from, in errors.
	ARM64File, AMD64File string
	// EnrollFile, when set, is installed as launchd.EnrollFilePath
	// (root:wheel 0600): the postinstall enrolls with it. It holds a live
	// token, so the package is written 0600 (FileMode).
	EnrollFile []byte
}

// FileMode is the mode of the package file: 0600 when it holds an
// enrollment token, else 0644.
func FileMode(opt Options) fs.FileMode {
	if opt.EnrollFile != nil {
		return 0o600
	}
	return 0o644
}

// node is one path of the installed tree, relative to "/".
type node struct {
	path string // "." or "./a/b"
	mode fs.FileMode
	data []byte
}

// NormalizeVersion returns the version written into PackageInfo.
func NormalizeVersion(v string) (string, error) {
	if len(v) > 1 && v[0] == 'v' && v[1] >= '0' && v[1] <= '9' {
		v = v[1:]
	}
	if !versionRE.MatchString(v) || len(v) > 64 {
		return "", fmt.Errorf("%w: %q (want e.g. 1.4.2)", ErrVersion, v)
	}
	return v, nil
}

// payloadTree lays out the installed files; every path is root:wheel. The
// LaunchAgent runs `mobileatwork ui --session` in each login session: the
// onboarding kiosk, then Apps@Work once after registration.
// The enrollment file, when there is one, is last: it sits next to bin/ in
// /Library/MobileAtWork, and the tree is depth-first in name order.
func payloadTree(binary, daemonPlist, agentPlist, enrollFile []byte) []node {
	dir := fs.ModeDir | 0o755
	rel := func(abs string) string { return "." + abs }
	tree := []node{
		{".", dir, nil},
		{"./Library", dir, nil},
		{rel(path.Dir(launchd.UIPlistPath)), dir, nil},
		{rel(launchd.UIPlistPath), 0o644, agentPlist},
		{rel(path.Dir(launchd.DaemonPlistPath)), dir, nil},
		{rel(launchd.DaemonPlistPath), 0o644, daemonPlist},
		{rel(path.Dir(path.Dir(launchd.BinaryPath))), dir, nil},
		{rel(path.Dir(launchd.BinaryPath)), dir, nil},
		{rel(launchd.BinaryPath), 0o755, binary},
	}
	if enrollFile != nil {
		tree = append(tree, node{rel(launchd.EnrollFilePath), 0o600, enrollFile})
	}
	return tree
}

func gzipCPIO(nodes []node, mtime time.Time) ([]byte, error) {
	var out bytes.Buffer
	zw, err := gzip.NewWriterLevel(&out, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	cw := cpio.NewWriter(zw)
	for _, n := range nodes {
		if err := cw.WriteEntry(cpio.Entry{Name: n.path, Mode: n.mode, ModTime: mtime, Data: n.data}); err != nil {
			return nil, err
		}
	}
	if err := cw.Close(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// Build returns the complete .pkg.
func Build(opt Options) ([]byte, error) {
	version, err := NormalizeVersion(opt.Version)
	if err != nil {
		return nil, err
	}
	universal, err := machofat.Universal(
		machofat.Slice{CPU: macho.CpuAmd64, Data: opt.AMD64, Name: opt.AMD64File},
		machofat.Slice{CPU: macho.CpuArm64, Data: opt.ARM64, Name: opt.ARM64File},
	)
	if err != nil {
		return nil, fmt.Errorf("packaging: universal binary: %w", err)
	}
	daemon, err := launchd.Marshal(launchd.Daemon())
	if err != nil {
		return nil, err
	}
	agent, err := launchd.Marshal(launchd.UIAgent())
	if err != nil {
		return nil, err
	}
	tree := payloadTree(universal, daemon, agent, opt.EnrollFile)

	var bomEntries []bom.Entry
	var kbytes int64
	for _, n := range tree {
		bomEntries = append(bomEntries, bom.Entry{
			Path: n.path, Mode: n.mode, ModTime: opt.Created,
			Size: uint64(len(n.data)), Checksum: checksumFor(n),
		})
		kbytes += (int64(len(n.data)) + 1023) / 1024
	}
	bomData, err := bom.Marshal(bomEntries)
	if err != nil {
		return nil, fmt.Errorf("packaging: bom: %w", err)
	}
	payload, err := gzipCPIO(tree, opt.Created)
	if err != nil {
		return nil, fmt.Errorf("packaging: payload: %w", err)
	}
	scripts, err := gzipCPIO([]node{
		{".", fs.ModeDir | 0o755, nil},
		{"./postinstall", 0o755, postinstallScript},
		{"./preinstall", 0o755, preinstallScript},
	}, opt.Created)
	if err != nil {
		return nil, fmt.Errorf("packaging: scripts: %w", err)
	}
	info, err := packageInfo(Identifier, version, len(tree), kbytes)
	if err != nil {
		return nil, fmt.Errorf("packaging: PackageInfo: %w", err)
	}
	dist, err := distributionXML(Title, Identifier, version, ComponentDir, kbytes)
	if err != nil {
		return nil, fmt.Errorf("packaging: Distribution: %w", err)
	}

	file := func(name string, data []byte, compress bool) xar.File {
		return xar.File{Name: name, Data: data, Mode: 0o644, ModTime: opt.Created, Compress: compress}
	}
	pkg, err := xar.Build([]xar.File{
		file("Distribution", dist, true),
		file(ComponentDir+"/Bom", bomData, true),
		file(ComponentDir+"/Payload", payload, false),
		file(ComponentDir+"/Scripts", scripts, false),
		file(ComponentDir+"/PackageInfo", info, true),
	}, xar.Options{Created: opt.Created, Signer: opt.Signer})
	if err != nil {
		return nil, fmt.Errorf("packaging: %w", err)
	}
	return pkg, nil
}

func checksumFor(n node) uint32 {
	if n.mode.IsDir() {
		return 0
	}
	return bom.Cksum(n.data)
}

// WriteFile builds the package and writes it to name atomically with
// FileMode, creating the parent directory (dist/) when needed.
func WriteFile(name string, opt Options) error {
	pkg, err := Build(opt)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return fmt.Errorf("packaging: %w", err)
	}
	if err := atomicfile.WriteFile(name, pkg, FileMode(opt)); err != nil {
		return fmt.Errorf("packaging: write %s: %w", name, err)
	}
	return nil
}

// LoadSigner parses a PEM certificate chain (leaf first) and its RSA private
// key (PKCS#1 or PKCS#8), as exported from a Developer ID Installer identity.
func LoadSigner(certPEM, keyPEM []byte) (*xar.Signer, error) {
	var s xar.Signer
	for rest := certPEM; ; {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("packaging: parse signing certificate: %w", err)
		}
		s.Chain = append(s.Chain, c)
	}
	if len(s.Chain) == 0 {
		return nil, errors.New("packaging: no CERTIFICATE block in the signing certificate file")
	}
	blk, _ := pem.Decode(keyPEM)
	if blk == nil {
		return nil, errors.New("packaging: no PEM block in the signing key file")
	}
	switch blk.Type {
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("packaging: parse signing key: %w", err)
		}
		s.Key = k
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("packaging: parse signing key: %w", err)
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("packaging: signing key is %T; xar signatures need RSA", k)
		}
		s.Key = rk
	default:
		return nil, fmt.Errorf("packaging: unsupported key block %q", blk.Type)
	}
	if pub, ok := s.Chain[0].PublicKey.(*rsa.PublicKey); !ok || !pub.Equal(&s.Key.PublicKey) {
		return nil, errors.New("packaging: the first certificate does not belong to the signing key")
	}
	return &s, nil
}

// BuildTime returns the time stamped into the package: SOURCE_DATE_EPOCH when
// set (reproducible builds), else now.
func BuildTime(getenv func(string) string, now func() time.Time) (time.Time, error) {
	s := strings.TrimSpace(getenv("SOURCE_DATE_EPOCH"))
	if s == "" {
		return now().UTC().Truncate(time.Second), nil
	}
	secs, err := strconv.ParseInt(s, 10, 64)
	if err != nil || secs < 0 {
		return time.Time{}, fmt.Errorf("packaging: SOURCE_DATE_EPOCH %q is not a Unix time", s)
	}
	return time.Unix(secs, 0).UTC(), nil
}
