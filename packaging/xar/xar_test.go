package xar

import (
	"bytes"
	"compress/zlib"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

var created = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func testFiles() []File {
	return []File{
		{Name: "Distribution", Data: []byte("<installer-gui-script/>\n"), Mode: 0o644, ModTime: created, Compress: true},
		{Name: "agent.pkg/Payload", Data: bytes.Repeat([]byte("payload "), 1000), Mode: 0o644, ModTime: created},
		{Name: "agent.pkg/PackageInfo", Data: []byte("<pkg-info/>\n"), Mode: 0o644, ModTime: created, Compress: true},
	}
}

var update = flag.Bool("update", false, "rewrite testdata/signed-toc.xml")

// testSigner returns a throwaway code-signing identity shaped like a
// Developer ID one: leaf, intermediate CA, root CA, all RSA 2048, valid now
// (a CMS signature carries the signing time, which the leaf must cover).
// It is made once per test binary: three RSA keys are slow to generate.
func testSigner(t *testing.T) *Signer {
	t.Helper()
	shared.once.Do(func() { shared.signer, _ = testChain(t) })
	if shared.signer == nil {
		t.Fatal("no test signing identity")
	}
	return shared.signer
}

var shared struct {
	once   sync.Once
	signer *Signer
}

func testChain(t *testing.T) (*Signer, *x509.Certificate) {
	t.Helper()
	now := time.Now()
	issue := func(tmpl, parent *x509.Certificate, parentKey *rsa.PrivateKey) (*x509.Certificate, *rsa.PrivateKey) {
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		tmpl.NotBefore, tmpl.NotAfter = now.Add(-time.Hour), now.Add(24*time.Hour)
		if parent == nil {
			parent, parentKey = tmpl, key
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
		if err != nil {
			t.Fatal(err)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		return c, key
	}
	ca := func(serial int64, name string) *x509.Certificate {
		return &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
			IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
		}
	}
	root, rootKey := issue(ca(1, "Test Root CA"), nil, nil)
	inter, interKey := issue(ca(2, "Test Developer ID Certification Authority"), root, rootKey)
	leaf, key := issue(&x509.Certificate{
		SerialNumber: big.NewInt(3),
		Subject:      pkix.Name{CommonName: "Developer ID Installer: Test (TEAMID1234)"},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
	}, inter, interKey)
	return &Signer{Key: key, Chain: []*x509.Certificate{leaf, inter, root}}, root
}

func build(t *testing.T, s *Signer) []byte {
	t.Helper()
	b, err := Build(testFiles(), Options{Created: created, Signer: s})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestHeader(t *testing.T) {
	b := build(t, nil)
	if string(b[:4]) != "xar!" || binary.BigEndian.Uint16(b[4:]) != 28 || binary.BigEndian.Uint16(b[6:]) != 1 || binary.BigEndian.Uint32(b[24:]) != 1 {
		t.Fatalf("bad header % x", b[:28])
	}
	zlen := binary.BigEndian.Uint64(b[8:])
	sum := sha1.Sum(b[28 : 28+zlen])
	if !bytes.Equal(sum[:], b[28+zlen:28+zlen+20]) {
		t.Error("heap does not start with the sha1 of the compressed toc")
	}
}

func TestReadBack(t *testing.T) {
	for _, signed := range []bool{false, true} {
		t.Run(map[bool]string{false: "unsigned", true: "signed"}[signed], func(t *testing.T) {
			var s *Signer
			if signed {
				s = testSigner(t)
			}
			b := build(t, s)
			a, err := Open(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				t.Fatal(err)
			}
			want := []string{"Distribution", "agent.pkg/PackageInfo", "agent.pkg/Payload"}
			if got := a.Names(); strings.Join(got, ",") != strings.Join(want, ",") {
				t.Fatalf("names %v, want %v", got, want)
			}
			if d := a.Dirs(); len(d) != 1 || d[0] != "agent.pkg" {
				t.Errorf("dirs %v", d)
			}
			for _, f := range testFiles() {
				got, err := a.ReadFile(f.Name)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, f.Data) {
					t.Errorf("%s: content differs", f.Name)
				}
				m, _ := a.Stat(f.Name)
				if m.Mode != "0644" || m.UID != 0 || m.GID != 0 {
					t.Errorf("%s: mode %s uid %d gid %d", f.Name, m.Mode, m.UID, m.GID)
				}
			}
			chain, err := Verify(bytes.NewReader(b), int64(len(b)))
			if !signed {
				if !errors.Is(err, ErrNotSigned) {
					t.Fatalf("Verify unsigned: %v, want ErrNotSigned", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if len(chain) != 3 || !chain[0].Equal(s.Chain[0]) || !chain[2].Equal(s.Chain[2]) {
				t.Errorf("chain %v", chain)
			}
		})
	}
}

// rewriteTOC replaces the TOC with edit(toc), fixing lengths and the checksum
// as an attacker would, but leaving the signature untouched.
func rewriteTOC(t *testing.T, b []byte, edit func(string) string) []byte {
	t.Helper()
	zlen := binary.BigEndian.Uint64(b[8:])
	zr, err := zlib.NewReader(bytes.NewReader(b[28 : 28+zlen]))
	if err != nil {
		t.Fatal(err)
	}
	old, _ := io.ReadAll(zr)
	toc := []byte(edit(string(old)))
	if bytes.Equal(toc, old) {
		t.Fatal("edit changed nothing")
	}
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(toc)
	zw.Close()
	heap := append([]byte(nil), b[28+zlen:]...)
	sum := sha1.Sum(z.Bytes())
	copy(heap, sum[:])
	out := append([]byte(nil), b[:28]...)
	binary.BigEndian.PutUint64(out[8:], uint64(z.Len()))
	binary.BigEndian.PutUint64(out[16:], uint64(len(toc)))
	return append(append(out, z.Bytes()...), heap...)
}

func TestVerifyDetectsTampering(t *testing.T) {
	s := testSigner(t)
	good := build(t, s)
	zlen := binary.BigEndian.Uint64(good[8:])
	heapOff := 28 + int(zlen)
	a, err := Open(bytes.NewReader(good), int64(len(good)))
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := a.Stat("agent.pkg/Payload")
	cmsLen := len(cmsOf(t, good))
	tests := []struct {
		name   string
		mutate func([]byte) []byte
		want   error
	}{
		{"toc byte", func(b []byte) []byte { b[28+10] ^= 1; return b }, nil},
		{"toc checksum", func(b []byte) []byte { b[heapOff] ^= 1; return b }, ErrChecksum},
		{"toc rewritten with fixed checksum", func(b []byte) []byte {
			return rewriteTOC(t, b, func(s string) string { return strings.Replace(s, "<mode>0644</mode>", "<mode>4755</mode>", 1) })
		}, ErrSignature},
		{"signature byte", func(b []byte) []byte { b[heapOff+20+100] ^= 1; return b }, ErrSignature},
		{"CMS signature byte", func(b []byte) []byte { b[heapOff+276+cmsLen-100] ^= 1; return b }, nil},
		{"CMS padding", func(b []byte) []byte { b[heapOff+276+cmsLen+1] = 1; return b }, ErrFormat},
		{"payload byte", func(b []byte) []byte { b[heapOff+int(payload.data.Offset)+5] ^= 1; return b }, ErrChecksum},
		{"certificate swapped", func(b []byte) []byte {
			other, _ := testChain(t)
			return rewriteTOC(t, b, func(s string) string {
				enc := s[strings.Index(s, "<X509Certificate>")+len("<X509Certificate>") : strings.Index(s, "</X509Certificate>")]
				return strings.Replace(s, enc, encodeCert(other.Chain[0]), 1)
			})
		}, ErrSignature},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.mutate(append([]byte(nil), good...))
			_, err := Verify(bytes.NewReader(b), int64(len(b)))
			if err == nil {
				t.Fatal("tampered archive verified")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

func encodeCert(c *x509.Certificate) string { return base64.StdEncoding.EncodeToString(c.Raw) }

func TestBuildRejects(t *testing.T) {
	s := testSigner(t)
	other, _ := testChain(t)
	tests := []struct {
		name  string
		files []File
		opt   Options
	}{
		{"absolute name", []File{{Name: "/etc/passwd"}}, Options{}},
		{"dot-dot", []File{{Name: "../x"}}, Options{}},
		{"unclean", []File{{Name: "a//b"}}, Options{}},
		{"duplicate", []File{{Name: "a"}, {Name: "a"}}, Options{}},
		{"file then dir", []File{{Name: "a"}, {Name: "a/b"}}, Options{}},
		{"key mismatch", []File{{Name: "a"}}, Options{Signer: &Signer{Key: other.Key, Chain: s.Chain}}},
		{"no chain", []File{{Name: "a"}}, Options{Signer: &Signer{Key: s.Key}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Build(tc.files, tc.opt); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func TestOpenRejectsGarbage(t *testing.T) {
	for _, b := range [][]byte{nil, []byte("not a xar archive at all, no"), append([]byte("xar!\x00\x1c\x00\x01"), make([]byte, 20)...)} {
		if _, err := Open(bytes.NewReader(b), int64(len(b))); !errors.Is(err, ErrFormat) {
			t.Errorf("Open(%q) = %v, want ErrFormat", b, err)
		}
	}
}

func TestBsdtarReadsArchive(t *testing.T) {
	if _, err := exec.LookPath("bsdtar"); err != nil {
		t.Skip("bsdtar not installed (Debian package libarchive-tools)")
	}
	dir := t.TempDir()
	pkg := filepath.Join(dir, "test.pkg")
	if err := os.WriteFile(pkg, build(t, testSigner(t)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("bsdtar", "-tf", pkg).CombinedOutput()
	if err != nil {
		t.Fatalf("bsdtar -tf: %v\n%s", err, out)
	}
	got := strings.Fields(string(out))
	sort.Strings(got)
	want := []string{"Distribution", "agent.pkg", "agent.pkg/PackageInfo", "agent.pkg/Payload"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("bsdtar lists %v, want %v", got, want)
	}
	x := filepath.Join(dir, "x")
	os.Mkdir(x, 0o755)
	if out, err := exec.Command("bsdtar", "-xf", pkg, "-C", x).CombinedOutput(); err != nil {
		t.Fatalf("bsdtar -xf: %v\n%s", err, out)
	}
	for _, f := range testFiles() {
		got, err := os.ReadFile(filepath.Join(x, f.Name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, f.Data) {
			t.Errorf("%s: bsdtar extracted different bytes", f.Name)
		}
	}
}

// cmsOf returns the DER CMS signature of a signed archive, without its
// zero padding, found through the TOC as any reader would.
func cmsOf(t *testing.T, b []byte) []byte {
	t.Helper()
	a, err := Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	x := a.doc.TOC.XSignature
	if x == nil {
		t.Fatal("no x-signature in the TOC")
	}
	room, err := a.heap(x.Offset, x.Size)
	if err != nil {
		t.Fatal(err)
	}
	var v asn1.RawValue
	if _, err := asn1.Unmarshal(room, &v); err != nil {
		t.Fatal(err)
	}
	return v.FullBytes
}

// TestSignedTOCGolden pins the TOC of a signed archive: checksum at 0 (20
// bytes), RSA signature at 20 (256), CMS signature at 276 (9216), each
// signature with the full chain, as in a package signed by productsign.
// Certificates differ per run and are replaced by their position.
func TestSignedTOCGolden(t *testing.T) {
	s := testSigner(t)
	b := build(t, s)
	a, err := Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	toc, err := a.TOC()
	if err != nil {
		t.Fatal(err)
	}
	got := string(toc)
	for i, c := range s.Chain {
		enc := encodeCert(c)
		if n := strings.Count(got, enc); n != 2 {
			t.Errorf("certificate %d appears %d times, want once per signature", i, n)
		}
		got = strings.ReplaceAll(got, enc, fmt.Sprintf("CERTIFICATE-%d", i))
	}
	golden := filepath.Join("testdata", "signed-toc.xml")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("signed TOC differs from %s (go test -update after review):\n%s", golden, got)
	}
}

// TestOpenSSLVerifiesCMSSignature has openssl check the CMS signature
// against the TOC checksum bytes and the test root, independently of pkcs7.
func TestOpenSSLVerifiesCMSSignature(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed")
	}
	s, root := testChain(t)
	b := build(t, s)
	a, err := Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cms := write("cms.der", cmsOf(t, b))
	sum := write("checksum", a.tocSum)
	ca := write("root.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: root.Raw}))
	certs := filepath.Join(dir, "certs.pem")
	out, err := exec.Command(openssl, "cms", "-verify", "-inform", "DER", "-in", cms, "-binary", "-content", sum,
		"-CAfile", ca, "-purpose", "any", "-certsout", certs, "-out", os.DevNull).CombinedOutput()
	if err != nil {
		t.Fatalf("openssl cms -verify: %v\n%s", err, out)
	}
	if pems, _ := os.ReadFile(certs); bytes.Count(pems, []byte("BEGIN CERTIFICATE")) != 3 {
		t.Errorf("CMS carries %d certificates, want the chain of 3", bytes.Count(pems, []byte("BEGIN CERTIFICATE")))
	}
	out, err = exec.Command(openssl, "cms", "-cmsout", "-print", "-inform", "DER", "-in", cms).CombinedOutput()
	if err != nil {
		t.Fatalf("openssl cms -print: %v\n%s", err, out)
	}
	for _, want := range []string{"contentType: pkcs7-signedData", "eContentType: pkcs7-data", "eContent: <ABSENT>", "algorithm: sha256", "signingTime"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("openssl cms -print lacks %q", want)
		}
	}
	// Other content must not verify.
	other := write("other", bytes.Repeat([]byte{1}, 20))
	if out, err := exec.Command(openssl, "cms", "-verify", "-inform", "DER", "-in", cms, "-binary", "-content", other,
		"-CAfile", ca, "-purpose", "any", "-out", os.DevNull).CombinedOutput(); err == nil {
		t.Errorf("openssl verified the CMS signature over other bytes:\n%s", out)
	}
}
