package server

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/mobileatwork/mobileatwork/internal/atomicfile"
	"github.com/mobileatwork/mobileatwork/packaging"
	"github.com/mobileatwork/mobileatwork/packaging/xar"
	"github.com/mobileatwork/mobileatwork/protocol"
)

// The thin darwin executables in an agent directory, as `make pkg` names them.
const (
	AgentARM64 = "mobileatwork-arm64"
	AgentAMD64 = "mobileatwork-amd64"
)

// PackageOptions describe an enrolling package: the agent's installer with
// an enrollment file, so that installing it is registering.
type PackageOptions struct {
	AgentDir  string // holds AgentARM64 and AgentAMD64
	Out       string // the .pkg to write
	User      string // the enrolled devices' user, may be empty
	Uses      int
	TTL       time.Duration
	ServerURL string // where the agents enroll; empty: the tenant's server_url
	Version   string
	Signer    *xar.Signer // nil: unsigned
	Created   time.Time   // stamped on every file; zero is now
}

// PackageInfo is what an enrolling package holds, without its token.
type PackageInfo struct {
	Path      string
	SHA256    string
	Size      int64
	Version   string
	ServerURL string
	Signed    bool
	Token     TokenInfo
}

// BuildPackage writes an enrolling package. It checks every input and
// builds the package before the token is stored, and revokes the token
// when the package cannot be written: a failure leaves no usable token and
// no file. The file is 0600: it holds a live token.
func (s *Server) BuildPackage(ctx context.Context, o PackageOptions) (PackageInfo, error) {
	if err := checkTokenArgs(o.User, o.Uses, o.TTL); err != nil {
		return PackageInfo{}, err
	}
	if err := checkPackageOut(o.Out); err != nil {
		return PackageInfo{}, err
	}
	pkg, info, err := s.buildPackage(ctx, o)
	if err != nil {
		return PackageInfo{}, err
	}
	ti := info.Token
	// 0600 as packaging.FileMode says of a package with an enrollment file.
	if err := writePackage(o.Out, pkg, 0o600); err != nil {
		if _, rerr := s.Store.RevokeToken(ctx, ti.ID, s.now()); rerr != nil {
			return PackageInfo{}, fmt.Errorf("write %s: %w; and token %s could not be revoked: %v: revoke it with `mobileatwork-server token revoke %s`", o.Out, err, ti.ID, rerr, ti.ID)
		}
		return PackageInfo{}, fmt.Errorf("write %s: %w (token %s revoked)", o.Out, err, ti.ID)
	}
	info.Path = o.Out
	return info, s.audit(ctx, "package.build", "enrollment token "+ti.ID, changes("package: "+o.Out, "version: "+info.Version, tokenSummary(ti)))
}

// buildPackage builds an enrolling package in memory and stores its token,
// once every input is checked; o.Out is not used. The caller keeps the
// package and revokes the token when it cannot.
func (s *Server) buildPackage(ctx context.Context, o PackageOptions) ([]byte, PackageInfo, error) {
	if err := checkTokenArgs(o.User, o.Uses, o.TTL); err != nil {
		return nil, PackageInfo{}, err
	}
	if o.ServerURL == "" {
		urls, err := s.TenantURLs(ctx)
		if err != nil {
			return nil, PackageInfo{}, err
		}
		o.ServerURL = urls.ServerURL
	}
	serverURL, err := s.packageServerURL(o.ServerURL)
	if err != nil {
		return nil, PackageInfo{}, err
	}
	version, err := packaging.NormalizeVersion(o.Version)
	if err != nil {
		return nil, PackageInfo{}, invalid("--version %q: want e.g. 1.4.2", o.Version)
	}
	popt, err := s.agentPackage(o.AgentDir, version, o.Created, o.Signer)
	if err != nil {
		return nil, PackageInfo{}, err
	}
	tok, err := protocol.NewEnrollToken(s.Tenant.CAPin())
	if err != nil {
		return nil, PackageInfo{}, err
	}
	if popt.EnrollFile, err = (protocol.EnrollFile{ServerURL: serverURL, Token: tok.String(), Organization: s.Tenant.Name}).Marshal(); err != nil {
		return nil, PackageInfo{}, err
	}
	pkg, err := packaging.Build(popt)
	if err != nil {
		return nil, PackageInfo{}, invalid("%v", err)
	}
	ti, err := s.storeToken(ctx, tok, o.User, o.Uses, o.TTL)
	if err != nil {
		return nil, PackageInfo{}, err
	}
	sum := sha256.Sum256(pkg)
	return pkg, PackageInfo{
		SHA256: hex.EncodeToString(sum[:]), Size: int64(len(pkg)), Version: version,
		ServerURL: serverURL, Signed: o.Signer != nil, Token: ti,
	}, nil
}

// writePackage writes the package file; tests make it fail.
var writePackage = atomicfile.WriteFile

// packageServerURL checks the URL agents will enroll with: https, a host
// the server's TLS certificate names (the agent checks it against the
// pinned CA and would refuse any other), no path beyond "/".
func (s *Server) packageServerURL(raw string) (string, error) {
	if raw == "" {
		return "", invalid("--server-url is required: the tenant keeps no server URL; give the address the Macs reach the server at, e.g. https://mdm.example.com:8443, or keep it with `mobileatwork-server tenant set server_url=URL`")
	}
	return s.checkServerURL("--server-url", raw)
}

// checkServerURL is the one rule for the device API's public URL, named
// what in messages.
func (s *Server) checkServerURL(what, raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || strings.Trim(u.Path, "/") != "" {
		return "", invalid("%s %q: want https://HOST[:PORT]", what, raw)
	}
	leaf, err := x509.ParseCertificate(s.Tenant.TLS.Certificate[0])
	if err != nil {
		return "", fmt.Errorf("server TLS certificate: %w", err)
	}
	if err := leaf.VerifyHostname(u.Hostname()); err != nil {
		names := append([]string(nil), leaf.DNSNames...)
		for _, ip := range leaf.IPAddresses {
			names = append(names, ip.String())
		}
		return "", invalid("%s host %q is not named by the server's TLS certificate (%s), so agents would refuse it", what, u.Hostname(), strings.Join(names, ", "))
	}
	return "https://" + u.Host, nil
}

// checkPackageOut refuses an output the package could not be written to,
// before a token exists.
func checkPackageOut(out string) error {
	if out == "" {
		return invalid("--out FILE is required")
	}
	if fi, err := os.Stat(out); err == nil && fi.IsDir() {
		return invalid("--out %s is a directory; give the .pkg file to write", out)
	}
	fi, err := os.Stat(filepath.Dir(out))
	if err != nil {
		return invalid("--out %s: %v", out, err)
	}
	if !fi.IsDir() {
		return invalid("--out %s: %s is not a directory", out, filepath.Dir(out))
	}
	return nil
}

// agentPackage is the packaging of the agent of version (normalized) from
// the thin executables in dir, stamped created (zero: now) and signed by
// signer when there is one.
func (s *Server) agentPackage(dir, version string, created time.Time, signer *xar.Signer) (packaging.Options, error) {
	o := packaging.Options{
		Version: version, Created: created, Signer: signer,
		ARM64File: filepath.Join(dir, AgentARM64), AMD64File: filepath.Join(dir, AgentAMD64),
	}
	if o.Created.IsZero() {
		o.Created = s.now().Truncate(time.Second)
	}
	var err error
	if o.ARM64, err = readAgent(o.ARM64File); err != nil {
		return packaging.Options{}, err
	}
	if o.AMD64, err = readAgent(o.AMD64File); err != nil {
		return packaging.Options{}, err
	}
	return o, nil
}

func readAgent(name string) ([]byte, error) {
	b, err := os.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, invalid("--agent-dir: no %s; build the two darwin executables with `make pkg` (dist/darwin)", name)
	}
	if err != nil {
		return nil, invalid("--agent-dir: %v", err)
	}
	return b, nil
}

// ParseTTL reads a token lifetime: a Go duration (36h, 90m) or a number of
// days (7d).
func ParseTTL(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 1 || n > 3650 {
			return 0, invalid("--ttl %q: want a number of days from 1d to 3650d, or a duration such as 36h", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, invalid("--ttl %q: want a duration such as 36h or a number of days such as 7d", s)
	}
	return d, nil
}
