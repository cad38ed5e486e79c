package pki

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/protocol"
)

// testNow is the real time: the pkcs7 library checks signing times against
// the signer certificate with its own clock.
var testNow = time.Now().UTC().Truncate(time.Second)

func createTenant(t *testing.T, hostnames ...string) (*Tenant, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "pki")
	tn, err := Create(dir, "Acme", hostnames, testNow)
	if err != nil {
		t.Fatal(err)
	}
	return tn, dir
}

func TestCreateLoadRoundTrip(t *testing.T) {
	created, dir := createTenant(t, "maw.example.com")
	loaded, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if loaded.Name != "Acme" {
		t.Errorf("name = %q, want Acme", loaded.Name)
	}
	pairs := []struct {
		what      string
		got, want []byte
	}{
		{"ca", loaded.CA.Raw, created.CA.Raw},
		{"signing", loaded.Signing.Cert.Raw, created.Signing.Cert.Raw},
		{"tls leaf", loaded.TLS.Certificate[0], created.TLS.Certificate[0]},
		{"tls chain ca", loaded.TLS.Certificate[1], created.CA.Raw},
	}
	for _, p := range pairs {
		if !bytes.Equal(p.got, p.want) {
			t.Errorf("%s certificate differs after load", p.what)
		}
	}
	if loaded.CAPin() != sha256.Sum256(created.CA.Raw) || loaded.CAPin() != created.CAPin() {
		t.Error("CA pin is not the SHA-256 of the CA certificate")
	}
	if !samePublicKey(created.CA.PublicKey, loaded.CAKey) {
		t.Error("loaded CA key does not match the CA certificate")
	}

	// The loaded signer works with the protocol envelope.
	der, err := protocol.Sign([]byte("payload"), loaded.Signing)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := protocol.Verify(der, protocol.Pinned{Cert: created.Signing.Cert}); err != nil {
		t.Fatalf("verify with pinned signing certificate: %v", err)
	}
	// A device trusts it by chain and policy, and nothing else of the
	// tenant carries the policy.
	if _, err := protocol.Verify(der, protocol.Chain{CA: loaded.CA}); err != nil {
		t.Fatalf("verify by chain to the tenant CA: %v", err)
	}
	for _, c := range []*x509.Certificate{loaded.CA, loaded.TLS.Leaf} {
		if protocol.HasSigningPolicy(c) {
			t.Errorf("%s carries the signing policy", c.Subject.CommonName)
		}
	}
}

func TestCreateFileModes(t *testing.T) {
	_, dir := createTenant(t)
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o700 {
		t.Errorf("dir mode = %#o, want 0700", got)
	}
	want := map[string]os.FileMode{
		CACertFile: 0o644, CAKeyFile: 0o600,
		SigningCertFile: 0o644, SigningKeyFile: 0o600,
		TLSCertFile: 0o644, TLSKeyFile: 0o600,
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(want) {
		t.Errorf("dir holds %d entries, want %d (no temporary files left)", len(entries), len(want))
	}
	for name, mode := range want {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != mode {
			t.Errorf("%s mode = %#o, want %#o", name, got, mode)
		}
	}
}

func TestCreateTightensExistingDir(t *testing.T) {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := Create(dir, "Acme", nil, testNow); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o700 {
		t.Fatalf("dir mode = %#o, want 0700", got)
	}
}

func TestCreateRefusesOverwrite(t *testing.T) {
	for _, existing := range []string{CACertFile, CAKeyFile, SigningKeyFile, TLSCertFile} {
		t.Run(existing, func(t *testing.T) {
			dir := t.TempDir()
			marker := []byte("operator's file")
			if err := os.WriteFile(filepath.Join(dir, existing), marker, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Create(dir, "Acme", nil, testNow)
			if !errors.Is(err, ErrExists) {
				t.Fatalf("error = %v, want ErrExists", err)
			}
			got, err := os.ReadFile(filepath.Join(dir, existing))
			if err != nil || !bytes.Equal(got, marker) {
				t.Fatalf("existing file changed: %q, %v", got, err)
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) != 1 {
				t.Fatalf("dir holds %d entries after refusal, want 1", len(entries))
			}
		})
	}
	t.Run("second init", func(t *testing.T) {
		first, dir := createTenant(t)
		if _, err := Create(dir, "Other", nil, testNow); !errors.Is(err, ErrExists) {
			t.Fatalf("error = %v, want ErrExists", err)
		}
		loaded, err := Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(loaded.CA.Raw, first.CA.Raw) {
			t.Fatal("CA replaced by second init")
		}
	})
}

func TestCreateRefusesBadInput(t *testing.T) {
	for _, tc := range []struct {
		name, tenant string
		hosts        []string
	}{
		{"empty tenant", " ", nil},
		{"long tenant", strings.Repeat("a", 65), nil},
		{"empty hostname", "Acme", []string{""}},
		{"url as hostname", "Acme", []string{"https://maw.example.com"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "pki")
			if _, err := Create(dir, tc.tenant, tc.hosts, testNow); err == nil {
				t.Fatal("accepted")
			}
			if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("dir created on refusal: %v", err)
			}
		})
	}
}

func TestLoadRefuses(t *testing.T) {
	t.Run("not initialised", func(t *testing.T) {
		dir := t.TempDir()
		_, err := Load(dir)
		if !errors.Is(err, ErrNoTenant) {
			t.Fatalf("error = %v, want ErrNoTenant", err)
		}
		if want := "no tenant in " + dir + ": run `mobileatwork-server init`"; err.Error() != want {
			t.Fatalf("message = %q, want %q", err, want)
		}
	})
	t.Run("key readable by others", func(t *testing.T) {
		_, dir := createTenant(t)
		if err := os.Chmod(filepath.Join(dir, SigningKeyFile), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Load(dir)
		if err == nil || !strings.Contains(err.Error(), "chmod 600") {
			t.Fatalf("error = %v, want a chmod hint", err)
		}
	})
	t.Run("key from another tenant", func(t *testing.T) {
		_, dir := createTenant(t)
		_, other := createTenant(t)
		data, err := os.ReadFile(filepath.Join(other, SigningKeyFile))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, SigningKeyFile), data, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "does not match") {
			t.Fatalf("error = %v, want a key mismatch", err)
		}
	})
	t.Run("certificate from another tenant", func(t *testing.T) {
		_, dir := createTenant(t)
		_, other := createTenant(t)
		for _, name := range []string{TLSCertFile, TLSKeyFile} {
			data, err := os.ReadFile(filepath.Join(other, name))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "tls certificate") {
			t.Fatalf("error = %v, want a chain failure", err)
		}
	})
	t.Run("missing key", func(t *testing.T) {
		_, dir := createTenant(t)
		if err := os.Remove(filepath.Join(dir, TLSKeyFile)); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(dir); err == nil || errors.Is(err, ErrNoTenant) {
			t.Fatalf("error = %v, want a missing-file error", err)
		}
	})
}

func TestCertificateProfiles(t *testing.T) {
	tn, _ := createTenant(t, "maw.example.com")
	year := 365 * 24 * time.Hour
	if d := tn.CA.NotAfter.Sub(testNow); d < 10*year-time.Hour || d > 10*year+time.Hour {
		t.Errorf("CA validity ends %v after creation, want 10 years", d)
	}
	if !tn.CA.IsCA || !tn.CA.MaxPathLenZero {
		t.Error("CA must be a CA that issues leaves only")
	}
	for name, c := range map[string]*x509.Certificate{"signing": tn.Signing.Cert, "tls": tn.TLS.Leaf} {
		if c.IsCA {
			t.Errorf("%s certificate is a CA", name)
		}
		if d := c.NotAfter.Sub(c.NotBefore); d > 2*year+time.Hour {
			t.Errorf("%s validity %v, want at most 2 years", name, d)
		}
		if c.KeyUsage&x509.KeyUsageDigitalSignature == 0 {
			t.Errorf("%s certificate lacks digitalSignature", name)
		}
	}
	if err := verifyLeaf(tn.CA, tn.Signing.Cert, testNow, x509.ExtKeyUsageCodeSigning); err != nil {
		t.Errorf("signing certificate: %v", err)
	}
	if tn.CA.SerialNumber.Cmp(tn.Signing.Cert.SerialNumber) == 0 {
		t.Error("serials repeat")
	}
}

func TestTLSCertificateNames(t *testing.T) {
	tn, _ := createTenant(t, "maw.example.com", "10.1.2.3", "MAW.example.com.")
	roots := x509.NewCertPool()
	roots.AddCert(tn.CA)
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"127.0.0.1", true},
		{"::1", true},
		{"localhost", true},
		{"maw.example.com", true},
		{"10.1.2.3", true},
		{"other.example.com", false},
		{"10.1.2.4", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tn.TLS.Leaf.Verify(x509.VerifyOptions{
				Roots: roots, DNSName: tc.name, CurrentTime: testNow,
				KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
			})
			if (err == nil) != tc.ok {
				t.Fatalf("verify for %s: %v, want ok=%v", tc.name, err, tc.ok)
			}
		})
	}
	if n := len(tn.TLS.Leaf.DNSNames); n != 2 {
		t.Errorf("DNS names %v, want localhost and maw.example.com once", tn.TLS.Leaf.DNSNames)
	}
}

// TestTLSHandshake serves the loaded tenant certificate and connects with
// only the CA as root, as the agent does after checking the pin.
func TestTLSHandshake(t *testing.T) {
	_, dir := createTenant(t)
	tn, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(tn.CA)
	srvConn, cliConn := net.Pipe()
	defer srvConn.Close()
	defer cliConn.Close()
	clock := func() time.Time { return testNow }
	srv := tls.Server(srvConn, &tls.Config{Certificates: []tls.Certificate{tn.TLS}, MinVersion: tls.VersionTLS12, Time: clock})
	cli := tls.Client(cliConn, &tls.Config{RootCAs: roots, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12, Time: clock})
	errc := make(chan error, 1)
	go func() { errc <- srv.Handshake() }()
	if err := cli.Handshake(); err != nil {
		t.Fatalf("client handshake: %v", err)
	}
	if err := <-errc; err != nil {
		t.Fatalf("server handshake: %v", err)
	}
}

var (
	deviceKeyOnce sync.Once
	deviceKey     *rsa.PrivateKey
)

// testDeviceKey is the RSA 3072 key an agent makes, generated once.
func testDeviceKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	deviceKeyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 3072)
		if err != nil {
			panic(err)
		}
		deviceKey = k
	})
	return deviceKey
}

func csrFor(t *testing.T, key crypto.Signer, cn string) []byte {
	t.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject:  pkix.Name{CommonName: cn},
		DNSNames: []string{"maw.example.com"}, // must not be copied
	}, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestIssueDevice(t *testing.T) {
	tn, _ := createTenant(t)
	key := testDeviceKey(t)
	csr := csrFor(t, key, "admin-chosen-name")
	cert, err := tn.IssueDevice(csr, "dev-123", testNow)
	if err != nil {
		t.Fatal(err)
	}
	if cert.Subject.CommonName != "dev-123" {
		t.Errorf("CN = %q, want the device id", cert.Subject.CommonName)
	}
	if len(cert.DNSNames) != 0 {
		t.Errorf("CSR names copied: %v", cert.DNSNames)
	}
	if !samePublicKey(cert.PublicKey, key) {
		t.Error("certificate is not for the CSR key")
	}
	if bits := cert.SerialNumber.BitLen(); bits < 64 || bits > 128 {
		t.Errorf("serial has %d bits", bits)
	}
	if d := cert.NotAfter.Sub(testNow); d < 360*24*time.Hour || d > 2*366*24*time.Hour {
		t.Errorf("validity %v, want 1 to 2 years", d)
	}
	if err := verifyLeaf(tn.CA, cert, testNow, x509.ExtKeyUsageClientAuth); err != nil {
		t.Errorf("device certificate does not verify for client auth: %v", err)
	}
	if err := verifyLeaf(tn.CA, cert, testNow, x509.ExtKeyUsageServerAuth); err == nil {
		t.Error("device certificate verifies for server auth")
	}
	again, err := tn.IssueDevice(csr, "dev-124", testNow)
	if err != nil {
		t.Fatal(err)
	}
	if again.SerialNumber.Cmp(cert.SerialNumber) == 0 {
		t.Error("serial repeated")
	}

	// A key envelope sealed to the issued certificate opens with the
	// device key: the certificate works for PKCS#7 key transport.
	grant := protocol.KeyGrant{AssignmentID: "a1", BlobSHA256: protocol.SHA256Hex([]byte("b")), Key: bytes.Repeat([]byte{1}, 32)}
	env, err := protocol.SealKeyGrant(grant, cert, tn.Signing)
	if err != nil {
		t.Fatal(err)
	}
	got, err := protocol.OpenKeyGrant(env, protocol.Pinned{Cert: tn.Signing.Cert}, cert, key)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Key, grant.Key) {
		t.Fatal("grant key differs")
	}
}

func TestIssueDeviceRefuses(t *testing.T) {
	tn, _ := createTenant(t)
	good := csrFor(t, testDeviceKey(t), "x")
	tampered := bytes.Clone(good)
	tampered[len(tampered)-1] ^= 0x01
	small, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		csr      []byte
		deviceID string
		want     error
	}{
		{"bad csr signature", tampered, "dev-1", ErrBadCSR},
		{"not a csr", []byte("hello"), "dev-1", ErrBadCSR},
		{"rsa 2048", csrFor(t, small, "x"), "dev-1", ErrDeviceKey},
		{"ec key", csrFor(t, ec, "x"), "dev-1", ErrDeviceKey},
		{"empty device id", good, "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cert, err := tn.IssueDevice(tc.csr, tc.deviceID, testNow)
			if err == nil || cert != nil {
				t.Fatalf("issued %v", cert)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("error = %v, want %v", err, tc.want)
			}
		})
	}
}

// New tenants serve TLS with an ECDSA P-256 key (cheaper handshakes than
// RSA); a tenant whose TLS key is RSA, made before, keeps it on Load.
func TestTLSKeyIsP256AndExistingKeysAreKept(t *testing.T) {
	tn, dir := createTenant(t)
	k, ok := tn.TLS.PrivateKey.(*ecdsa.PrivateKey)
	if !ok || k.Curve != elliptic.P256() {
		t.Fatalf("new tenant TLS key is %T, want ECDSA P-256", tn.TLS.PrivateKey)
	}
	loaded, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if k, ok := loaded.TLS.PrivateKey.(*ecdsa.PrivateKey); !ok || k.Curve != elliptic.P256() {
		t.Fatalf("loaded TLS key is %T, want ECDSA P-256", loaded.TLS.PrivateKey)
	}

	// A tenant of an earlier server with an RSA TLS key.
	rsaKey := testDeviceKey(t)
	leaf, err := createCert(&x509.Certificate{
		Subject: pkix.Name{CommonName: "localhost"}, NotBefore: testNow, NotAfter: testNow.Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames: []string{"localhost"},
	}, tn.CA, rsaKey.Public(), tn.CAKey)
	if err != nil {
		t.Fatal(err)
	}
	keyBytes, err := keyPEM(rsaKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, TLSKeyFile), keyBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, TLSCertFile), certPEM(leaf, tn.CA), 0o644); err != nil {
		t.Fatal(err)
	}
	old, err := Load(dir)
	if err != nil {
		t.Fatalf("load a tenant with an RSA TLS key: %v", err)
	}
	if k, ok := old.TLS.PrivateKey.(*rsa.PrivateKey); !ok || !k.Equal(rsaKey) {
		t.Fatalf("loaded TLS key is %T, want the tenant's RSA key kept", old.TLS.PrivateKey)
	}
}

// A renewed certificate lasts two years from its issue and is valid from
// when the one it replaces was, so a server clock put back after running
// ahead keeps accepting it.
func TestRenewDevice(t *testing.T) {
	tn, _ := createTenant(t)
	key := testDeviceKey(t)
	current, err := tn.IssueDevice(csrFor(t, key, "x"), "dev-123", testNow)
	if err != nil {
		t.Fatal(err)
	}
	later := testNow.Add(500 * 24 * time.Hour)
	renewed, err := tn.RenewDevice(csrFor(t, key, "y"), "dev-123", current, later)
	if err != nil {
		t.Fatal(err)
	}
	if !renewed.NotBefore.Equal(current.NotBefore) || !renewed.NotAfter.Equal(minTime(later.Add(DeviceValidity), tn.CA.NotAfter)) {
		t.Fatalf("renewed certificate valid %s to %s; want from %s for two years from %s", renewed.NotBefore, renewed.NotAfter, current.NotBefore, later)
	}
	if renewed.Subject.CommonName != "dev-123" || renewed.SerialNumber.Cmp(current.SerialNumber) == 0 {
		t.Fatalf("renewed certificate for %q, serial %x", renewed.Subject.CommonName, renewed.SerialNumber)
	}
	if _, err := tn.RenewDevice([]byte("junk"), "dev-123", current, later); !errors.Is(err, ErrBadCSR) {
		t.Fatalf("bad CSR: %v, want ErrBadCSR", err)
	}
}
