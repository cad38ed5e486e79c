package packaging

import (
	"bytes"
	"compress/gzip"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"debug/macho"
	"encoding/binary"
	"encoding/json"
	"encoding/pem"
	"encoding/xml"
	"errors"
	"io"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/micromdm/plist"
	"github.com/mobileatwork/mobileatwork/packaging/bom"
	"github.com/mobileatwork/mobileatwork/packaging/launchd"
	"github.com/mobileatwork/mobileatwork/packaging/xar"
)

var created = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// fakeThin is a minimal 64-bit Mach-O executable header that debug/macho accepts.
func fakeThin(cpu macho.Cpu, sub uint32, size int) []byte {
	b := make([]byte, size)
	binary.LittleEndian.PutUint32(b[0:], macho.Magic64)
	binary.LittleEndian.PutUint32(b[4:], uint32(cpu))
	binary.LittleEndian.PutUint32(b[8:], sub)
	binary.LittleEndian.PutUint32(b[12:], uint32(macho.TypeExec))
	for i := 32; i < size; i++ {
		b[i] = byte(i * 7)
	}
	return b
}

func testOptions() Options {
	return Options{
		Version: "v1.4.2",
		ARM64:   fakeThin(macho.CpuArm64, 0, 40000),
		AMD64:   fakeThin(macho.CpuAmd64, 3, 30000),
		Created: created,
	}
}

func buildPkg(t *testing.T, opt Options) (*xar.Archive, []byte) {
	t.Helper()
	b, err := Build(opt)
	if err != nil {
		t.Fatal(err)
	}
	a, err := xar.Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	return a, b
}

func readMember(t *testing.T, a *xar.Archive, name string) []byte {
	t.Helper()
	b, err := a.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type cpioMember struct {
	mode, uid, gid uint64
	data           []byte
}

// readCPIO decodes a gzip'd odc archive independently of package cpio.
func readCPIO(t *testing.T, gz []byte) ([]string, map[string]cpioMember) {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	m := map[string]cpioMember{}
	for {
		if string(b[:6]) != "070707" {
			t.Fatalf("bad cpio magic %q", b[:6])
		}
		f := func(off, n int) uint64 {
			v, err := strconv.ParseUint(string(b[off:off+n]), 8, 64)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		nl, sz := int(f(59, 6)), int(f(65, 11))
		name := string(b[76 : 76+nl-1])
		if name == "TRAILER!!!" {
			return names, m
		}
		names = append(names, name)
		m[name] = cpioMember{mode: f(18, 6), uid: f(24, 6), gid: f(30, 6), data: b[76+nl : 76+nl+sz]}
		b = b[76+nl+sz:]
	}
}

var wantPayload = []string{
	".",
	"./Library",
	"./Library/LaunchAgents",
	"./Library/LaunchAgents/com.mobileatwork.agent.ui.plist",
	"./Library/LaunchDaemons",
	"./Library/LaunchDaemons/com.mobileatwork.agent.plist",
	"./Library/MobileAtWork",
	"./Library/MobileAtWork/bin",
	"./Library/MobileAtWork/bin/mobileatwork",
}

func TestBuildLayout(t *testing.T) {
	a, _ := buildPkg(t, testOptions())
	wantNames := []string{"Distribution", "mobileatwork.pkg/Bom", "mobileatwork.pkg/PackageInfo", "mobileatwork.pkg/Payload", "mobileatwork.pkg/Scripts"}
	if got := a.Names(); strings.Join(got, " ") != strings.Join(wantNames, " ") {
		t.Fatalf("members %v, want %v", got, wantNames)
	}

	names, payload := readCPIO(t, readMember(t, a, "mobileatwork.pkg/Payload"))
	t.Run("payload", func(t *testing.T) {
		if strings.Join(names, "\n") != strings.Join(wantPayload, "\n") {
			t.Fatalf("payload paths:\n%s", strings.Join(names, "\n"))
		}
		modes := map[string]uint64{
			"./Library/MobileAtWork/bin":                             0o040755,
			"./Library/MobileAtWork/bin/mobileatwork":                0o100755,
			"./Library/LaunchDaemons/com.mobileatwork.agent.plist":   0o100644,
			"./Library/LaunchAgents/com.mobileatwork.agent.ui.plist": 0o100644,
		}
		for n, m := range payload {
			if m.uid != 0 || m.gid != 0 {
				t.Errorf("%s owned by %d:%d, want root:wheel", n, m.uid, m.gid)
			}
			if want, ok := modes[n]; ok && m.mode != want {
				t.Errorf("%s mode %o, want %o", n, m.mode, want)
			}
		}
		ff, err := macho.NewFatFile(bytes.NewReader(payload["./Library/MobileAtWork/bin/mobileatwork"].data))
		if err != nil {
			t.Fatalf("installed binary is not universal: %v", err)
		}
		if len(ff.Arches) != 2 || ff.Arches[0].Cpu != macho.CpuAmd64 || ff.Arches[1].Cpu != macho.CpuArm64 {
			t.Errorf("arches %+v", ff.Arches)
		}
		var job launchd.Job
		if err := plist.Unmarshal(payload["./Library/LaunchDaemons/com.mobileatwork.agent.plist"].data, &job); err != nil {
			t.Fatal(err)
		}
		if job.Label != launchd.DaemonLabel || job.ProgramArguments[0] != launchd.BinaryPath || !job.RunAtLoad {
			t.Errorf("daemon plist %+v", job)
		}
		var ui launchd.Job
		if err := plist.Unmarshal(payload["./Library/LaunchAgents/com.mobileatwork.agent.ui.plist"].data, &ui); err != nil {
			t.Fatal(err)
		}
		if ui.Label != launchd.UILabel || ui.LimitLoadToSessionType != "Aqua" ||
			strings.Join(ui.ProgramArguments, " ") != launchd.BinaryPath+" ui --session" {
			t.Errorf("UI agent plist %+v", ui)
		}
	})

	t.Run("bom matches payload", func(t *testing.T) {
		entries, err := bom.Unmarshal(readMember(t, a, "mobileatwork.pkg/Bom"))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range entries {
			got = append(got, e.Path)
			m := payload[e.Path]
			if e.UID != 0 || e.GID != 0 || !e.ModTime.Equal(created) {
				t.Errorf("%s: uid %d gid %d mtime %v", e.Path, e.UID, e.GID, e.ModTime)
			}
			if e.Mode.IsDir() != (m.mode&0o170000 == 0o040000) || uint64(e.Mode.Perm()) != m.mode&0o777 {
				t.Errorf("%s: bom mode %v, cpio mode %o", e.Path, e.Mode, m.mode)
			}
			if !e.Mode.IsDir() && (e.Size != uint64(len(m.data)) || e.Checksum != bom.Cksum(m.data)) {
				t.Errorf("%s: bom size/cksum %d/%d disagree with payload", e.Path, e.Size, e.Checksum)
			}
		}
		// Key order, (parent id, name), with ids numbered depth-first: the
		// two plists come after the three directories of /Library.
		keyOrder := []string{
			".", "./Library", "./Library/LaunchAgents", "./Library/LaunchDaemons", "./Library/MobileAtWork",
			"./Library/LaunchAgents/com.mobileatwork.agent.ui.plist",
			"./Library/LaunchDaemons/com.mobileatwork.agent.plist",
			"./Library/MobileAtWork/bin", "./Library/MobileAtWork/bin/mobileatwork",
		}
		if strings.Join(got, "\n") != strings.Join(keyOrder, "\n") {
			t.Errorf("bom paths:\n%s", strings.Join(got, "\n"))
		}
		sorted := append([]string(nil), got...)
		sort.Strings(sorted)
		if strings.Join(sorted, "\n") != strings.Join(wantPayload, "\n") {
			t.Errorf("bom holds:\n%s\nwant the payload's paths", strings.Join(sorted, "\n"))
		}
	})

	t.Run("bom lookup by key finds every payload path", func(t *testing.T) {
		b := readMember(t, a, "mobileatwork.pkg/Bom")
		for _, p := range wantPayload {
			e, err := bom.Lookup(b, p)
			if err != nil {
				t.Errorf("lookup %s: %v", p, err)
				continue
			}
			if m := payload[p]; !e.Mode.IsDir() && e.Size != uint64(len(m.data)) {
				t.Errorf("lookup %s: size %d, payload has %d", p, e.Size, len(m.data))
			}
		}
	})

	t.Run("scripts", func(t *testing.T) {
		names, scripts := readCPIO(t, readMember(t, a, "mobileatwork.pkg/Scripts"))
		sort.Strings(names)
		if strings.Join(names, " ") != ". ./postinstall ./preinstall" {
			t.Fatalf("scripts archive holds %v", names)
		}
		for _, n := range []string{"./preinstall", "./postinstall"} {
			if scripts[n].mode != 0o100755 || !bytes.HasPrefix(scripts[n].data, []byte("#!/bin/sh\n")) {
				t.Errorf("%s: mode %o", n, scripts[n].mode)
			}
		}
	})

	t.Run("PackageInfo", func(t *testing.T) {
		var info pkgInfo
		if err := xml.Unmarshal(readMember(t, a, "mobileatwork.pkg/PackageInfo"), &info); err != nil {
			t.Fatal(err)
		}
		if info.Identifier != Identifier || info.Version != "1.4.2" || info.InstallLocation != "/" ||
			info.Payload.NumberOfFiles != len(wantPayload) || info.Payload.InstallKBytes < 70 ||
			info.Scripts.Postinstall.File != "./postinstall" || info.Scripts.Preinstall.File != "./preinstall" {
			t.Errorf("PackageInfo %+v", info)
		}
	})

	t.Run("Distribution", func(t *testing.T) {
		raw := readMember(t, a, "Distribution")
		var d distribution
		if err := xml.Unmarshal(raw, &d); err != nil {
			t.Fatal(err)
		}
		ref := d.PkgRefs[0]
		if d.MinSpecVersion != 2 || d.Options.HostArchitectures != "arm64,x86_64" || d.Options.Customize != "never" ||
			!d.Domains.EnableLocalSystem || ref.Location != "#mobileatwork.pkg" || ref.Version != "1.4.2" || ref.OnConclusion != "none" {
			t.Errorf("Distribution:\n%s", raw)
		}
		if d.Outline.Lines[0].Lines[0].Choice != Identifier {
			t.Errorf("choices-outline does not reference %s", Identifier)
		}
		if v := d.AllowedOS.Versions; len(v) != 1 || v[0].Min != "12.0" {
			t.Errorf("allowed-os-versions %+v, want one os-version min=12.0", v)
		}
		if !bytes.Contains(raw, []byte("<allowed-os-versions>\n        <os-version min=\"12.0\"></os-version>")) ||
			!bytes.Contains(raw, []byte(`<installation-check script="mawCheckOS()"></installation-check>`)) ||
			!bytes.Contains(raw, []byte("<script><![CDATA[")) {
			t.Errorf("Distribution lacks the OS requirement elements:\n%s", raw)
		}
		runInstallationCheck(t, d)
	})
}

// runInstallationCheck runs the Distribution's installation-check with
// node, against the objects Installer gives it, for systems on either side
// of the minimum.
func runInstallationCheck(t *testing.T, d distribution) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Log("node not installed: installation-check script not run")
		return
	}
	harness := `
const [os] = process.argv.slice(1);
function cmp(a, b) {
  const x = a.split('.').map(Number), y = b.split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] || 0) - (y[i] || 0);
    if (d) return d < 0 ? -1 : 1;
  }
  return 0;
}
const system = {version: {ProductVersion: os}, compareVersions: cmp};
const my = {result: {}};
` + d.Script.Text + `
const ok = ` + d.Check.Script + `;
console.log(JSON.stringify({ok, ...my.result}));
`
	for _, tc := range []struct {
		os string
		ok bool
	}{{"11.7.10", false}, {"12.0", true}, {"12.0.1", true}, {"14.5", true}, {"10.15.7", false}} {
		out, err := exec.Command(node, "-e", harness, tc.os).CombinedOutput()
		if err != nil {
			t.Fatalf("node: %v\n%s", err, out)
		}
		var r struct {
			OK      bool   `json:"ok"`
			Type    string `json:"type"`
			Title   string `json:"title"`
			Message string `json:"message"`
		}
		if err := json.Unmarshal(out, &r); err != nil {
			t.Fatalf("%s: %v", out, err)
		}
		if r.OK != tc.ok {
			t.Errorf("macOS %s: check says %v, want %v", tc.os, r.OK, tc.ok)
		}
		if !tc.ok && (r.Type != "Fatal" || !strings.Contains(r.Message, "macOS Monterey (12.0) or later") || !strings.Contains(r.Message, tc.os)) {
			t.Errorf("macOS %s: result %+v", tc.os, r)
		}
	}
}

func TestBuildIsReproducible(t *testing.T) {
	_, a := buildPkg(t, testOptions())
	_, b := buildPkg(t, testOptions())
	if !bytes.Equal(a, b) {
		t.Error("two builds with the same inputs differ")
	}
}

func TestBuildRejectsBadInputs(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Options)
		want error
	}{
		{"empty version", func(o *Options) { o.Version = "" }, ErrVersion},
		{"version with space", func(o *Options) { o.Version = "1.0 beta" }, ErrVersion},
		{"version with markup", func(o *Options) { o.Version = `1"/><x` }, ErrVersion},
		{"swapped binaries", func(o *Options) { o.ARM64, o.AMD64 = o.AMD64, o.ARM64 }, nil},
		{"linux binary", func(o *Options) { o.ARM64 = []byte("\x7fELF not mach-o at all.........") }, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opt := testOptions()
			tc.edit(&opt)
			_, err := Build(opt)
			if err == nil {
				t.Fatal("accepted")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

// identity writes a throwaway signing certificate and key as PEM.
func identity(t *testing.T, pkcs8 bool) (certPEM, keyPEM []byte, key *rsa.PrivateKey) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(42),
		Subject:      pkix.Name{CommonName: "Developer ID Installer: Example (TEAM123456)"},
		// Valid now: the CMS signature carries the signing time.
		NotBefore: time.Now().Add(-time.Hour),
		NotAfter:  time.Now().Add(time.Hour),
		KeyUsage:  x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if pkcs8 {
		k, _ := x509.MarshalPKCS8PrivateKey(key)
		keyPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: k})
	} else {
		keyPEM = pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	}
	return certPEM, keyPEM, key
}

func TestSignedPackageVerifies(t *testing.T) {
	certPEM, keyPEM, _ := identity(t, true)
	s, err := LoadSigner(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	opt := testOptions()
	opt.Signer = s
	a, pkg := buildPkg(t, opt)
	chain, err := xar.Verify(bytes.NewReader(pkg), int64(len(pkg)))
	if err != nil {
		t.Fatal(err)
	}
	if len(chain) != 1 || chain[0].Subject.CommonName != "Developer ID Installer: Example (TEAM123456)" {
		t.Errorf("chain %v", chain)
	}
	// One flipped byte inside the Payload must be caught.
	toc, _ := a.TOC()
	if !bytes.Contains(toc, []byte(`<signature style="RSA">`)) || !bytes.Contains(toc, []byte(`<x-signature style="CMS">`)) {
		t.Errorf("signed package lacks one of productsign's two signatures:\n%s", toc)
	}
	zlen := binary.BigEndian.Uint64(pkg[8:])
	idx := bytes.Index(toc, []byte("<name>Payload</name>"))
	if idx < 0 {
		t.Fatal("no Payload in toc")
	}
	off := bytes.LastIndex(toc[:idx], []byte("<offset>"))
	end := bytes.Index(toc[off:], []byte("</offset>"))
	heapOff, _ := strconv.Atoi(string(toc[off+len("<offset>") : off+end]))
	bad := append([]byte(nil), pkg...)
	bad[28+int(zlen)+heapOff+100] ^= 0x01
	if _, err := xar.Verify(bytes.NewReader(bad), int64(len(bad))); !errors.Is(err, xar.ErrChecksum) {
		t.Errorf("tampered payload: %v, want ErrChecksum", err)
	}
}

func TestLoadSigner(t *testing.T) {
	cert1, key1, _ := identity(t, false)
	cert2, key2, _ := identity(t, true)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalPKCS8PrivateKey(ecKey)
	ecPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER})
	tests := []struct {
		name      string
		cert, key []byte
		ok        bool
	}{
		{"pkcs1", cert1, key1, true},
		{"pkcs8", cert2, key2, true},
		{"key of another certificate", cert1, key2, false},
		{"ecdsa key", cert1, ecPEM, false},
		{"no certificate", key1, key1, false},
		{"no key", cert1, nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadSigner(tc.cert, tc.key)
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestNormalizeVersion(t *testing.T) {
	tests := []struct{ in, want string }{
		{"1.4.2", "1.4.2"},
		{"v1.4.2", "1.4.2"},
		{"1.4.2-rc.1+abc", "1.4.2-rc.1+abc"},
		{"v1.0.0-3-gdeadbee-dirty", "1.0.0-3-gdeadbee-dirty"},
		{"dev", ""},
		{"v", ""},
		{"1.0;rm", ""},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := NormalizeVersion(tc.in)
			if tc.want == "" {
				if !errors.Is(err, ErrVersion) {
					t.Fatalf("got %q, %v; want ErrVersion", got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestBuildTime(t *testing.T) {
	now := func() time.Time { return time.Date(2030, 1, 1, 0, 0, 0, 5, time.UTC) }
	env := func(v string) func(string) string { return func(string) string { return v } }
	if got, _ := BuildTime(env(""), now); !got.Equal(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("without SOURCE_DATE_EPOCH: %v", got)
	}
	if got, _ := BuildTime(env("1700000000"), now); got.Unix() != 1700000000 {
		t.Errorf("with SOURCE_DATE_EPOCH: %v", got)
	}
	if _, err := BuildTime(env("yesterday"), now); err == nil {
		t.Error("bad SOURCE_DATE_EPOCH accepted")
	}
}

func TestWriteFileCreatesDirectory(t *testing.T) {
	out := filepath.Join(t.TempDir(), "dist", "MobileAtWork-1.4.2.pkg")
	if err := WriteFile(out, testOptions()); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(out)
	if err != nil || st.Mode().Perm() != 0o644 || st.Size() == 0 {
		t.Fatalf("stat %v %v", st, err)
	}
}

// TestBsdtarAndCpioReadPackage reads a built package with libarchive and GNU
// cpio, the tools CI uses to check release artifacts.
func TestBsdtarAndCpioReadPackage(t *testing.T) {
	for _, tool := range []string{"bsdtar", "cpio"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (Debian packages libarchive-tools and cpio)", tool)
		}
	}
	certPEM, keyPEM, _ := identity(t, false)
	s, err := LoadSigner(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	opt := testOptions()
	opt.Signer = s
	dir := t.TempDir()
	pkg := filepath.Join(dir, "MobileAtWork.pkg")
	if err := WriteFile(pkg, opt); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("bsdtar", "-tf", pkg).CombinedOutput()
	if err != nil {
		t.Fatalf("bsdtar -tf: %v\n%s", err, out)
	}
	listed := strings.Fields(string(out))
	sort.Strings(listed)
	want := "Distribution mobileatwork.pkg mobileatwork.pkg/Bom mobileatwork.pkg/PackageInfo mobileatwork.pkg/Payload mobileatwork.pkg/Scripts"
	if strings.Join(listed, " ") != want {
		t.Fatalf("bsdtar lists %v", listed)
	}
	x := filepath.Join(dir, "x")
	if err := os.Mkdir(x, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("bsdtar", "-xf", pkg, "-C", x).CombinedOutput(); err != nil {
		t.Fatalf("bsdtar -xf: %v\n%s", err, out)
	}
	gz, err := os.ReadFile(filepath.Join(x, "mobileatwork.pkg", "Payload"))
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("cpio", "-itv", "--quiet")
	cmd.Stdin = zr
	out, err = cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("cpio -itv: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	var paths []string
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) < 9 || f[2] != "root" || f[3] != "root" {
			t.Errorf("not root-owned: %q", l)
			continue
		}
		paths = append(paths, f[len(f)-1])
		if f[len(f)-1] == "./Library/MobileAtWork/bin/mobileatwork" && f[0] != "-rwxr-xr-x" {
			t.Errorf("binary mode %s", f[0])
		}
	}
	if strings.Join(paths, "\n") != strings.Join(wantPayload, "\n") {
		t.Errorf("cpio lists:\n%s", out)
	}
}
