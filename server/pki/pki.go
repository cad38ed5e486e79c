// Package pki holds a tenant's keys: the tenant CA, which issues the server
// TLS certificate and every device certificate, and the tenant signing
// certificate, which signs check-in responses, key envelopes and scripts.
//
// All tenant keys are ECDSA P-256: 128-bit security like RSA 3072, with
// keys generated in milliseconds, small signatures on every check-in
// response, and support in Go's TLS stack, macOS and the pkcs7 library
// (ecdsa-with-SHA256 SignedData). Only device keys are RSA, because PKCS#7
// key transport encrypts to them.
package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/mobileatwork/mobileatwork/internal/atomicfile"
	"github.com/mobileatwork/mobileatwork/protocol"
)

// Errors callers can test with errors.Is.
var (
	// ErrExists means Create found tenant files already in place; it never
	// overwrites them, since replacing the CA would orphan every device.
	ErrExists = errors.New("tenant already exists")
	// ErrNoTenant means Load found no tenant files.
	ErrNoTenant = errors.New("no tenant")
)

// File names inside the tenant directory.
const (
	CACertFile      = "ca.crt"
	CAKeyFile       = "ca.key"
	SigningCertFile = "signing.crt"
	SigningKeyFile  = "signing.key"
	TLSCertFile     = "tls.crt" // leaf, then the CA
	TLSKeyFile      = "tls.key"
)

var tenantFiles = []string{CACertFile, CAKeyFile, SigningCertFile, SigningKeyFile, TLSCertFile, TLSKeyFile}

// Validity periods. Leaves stay under two years; rotating them does not
// change the CA pin that enrollment tokens carry.
const (
	caValidity      = 10 * 365 * 24 * time.Hour
	signingValidity = 2 * 365 * 24 * time.Hour
	tlsValidity     = 2 * 365 * 24 * time.Hour
	// DeviceValidity is how long a device certificate lives; agents renew
	// theirs when a third of it remains.
	DeviceValidity = 2 * 365 * 24 * time.Hour
	// backdate absorbs clock differences between server and devices.
	backdate = 5 * time.Minute
)

// Tenant is a tenant's certificates and keys.
type Tenant struct {
	Name    string
	CA      *x509.Certificate
	CAKey   crypto.Signer
	Signing protocol.Signer
	// Previous is the signing certificate a rotation replaced, until it is
	// retired; nil otherwise.
	Previous *protocol.Signer
	// Retired are the signing certificates retired so far, oldest first.
	Retired []RetiredSigner
	TLS     tls.Certificate // leaf + CA chain
}

// Create makes a new tenant in dir: CA, signing certificate and a server
// TLS certificate for loopback and each of hostnames (names or IPs). It
// refuses, with ErrExists, if any tenant file is already there.
func Create(dir, tenantName string, hostnames []string, now time.Time) (*Tenant, error) {
	tenantName = strings.TrimSpace(tenantName)
	if tenantName == "" || len(tenantName) > 64 {
		return nil, fmt.Errorf("create tenant: name must be 1 to 64 characters, got %q", tenantName)
	}
	dnsNames, ips, err := serverNames(hostnames)
	if err != nil {
		return nil, fmt.Errorf("create tenant %s: %w", tenantName, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create tenant %s: %w", tenantName, err)
	}
	// MkdirAll leaves an existing directory as it was: keys go in a
	// directory only the server user can list.
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create tenant %s: %w", tenantName, err)
	}
	for _, name := range tenantFiles {
		if _, err := os.Lstat(filepath.Join(dir, name)); err == nil {
			return nil, fmt.Errorf("create tenant %s: %w: %s", tenantName, ErrExists, filepath.Join(dir, name))
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("create tenant %s: %w", tenantName, err)
		}
	}

	t, err := newTenant(tenantName, dnsNames, ips, now)
	if err != nil {
		return nil, fmt.Errorf("create tenant %s: %w", tenantName, err)
	}
	if err := t.write(dir); err != nil {
		return nil, fmt.Errorf("create tenant %s: %w", tenantName, err)
	}
	return t, nil
}

func newTenant(name string, dnsNames []string, ips []net.IP, now time.Time) (*Tenant, error) {
	caKey, err := newKey()
	if err != nil {
		return nil, err
	}
	caTmpl := &x509.Certificate{
		Subject:               pkix.Name{CommonName: name + " Mobile@Work CA", Organization: []string{name}},
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.Add(caValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		// Leaves only: nobody can mint an intermediate under the pin.
		MaxPathLenZero: true,
	}
	ca, err := createCert(caTmpl, nil, caKey.Public(), caKey)
	if err != nil {
		return nil, fmt.Errorf("ca certificate: %w", err)
	}

	signKey, err := newKey()
	if err != nil {
		return nil, err
	}
	signing, err := createCert(signingTemplate(name, ca, now), ca, signKey.Public(), caKey)
	if err != nil {
		return nil, fmt.Errorf("signing certificate: %w", err)
	}

	tlsKey, err := newKey()
	if err != nil {
		return nil, err
	}
	leaf, err := createCert(&x509.Certificate{
		Subject:     pkix.Name{CommonName: dnsNames[len(dnsNames)-1], Organization: []string{name}},
		NotBefore:   now.Add(-backdate),
		NotAfter:    minTime(now.Add(tlsValidity), ca.NotAfter),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:    dnsNames,
		IPAddresses: ips,
	}, ca, tlsKey.Public(), caKey)
	if err != nil {
		return nil, fmt.Errorf("tls certificate: %w", err)
	}

	return &Tenant{
		Name:    name,
		CA:      ca,
		CAKey:   caKey,
		Signing: protocol.Signer{Cert: signing, Key: signKey},
		TLS:     tls.Certificate{Certificate: [][]byte{leaf.Raw, ca.Raw}, PrivateKey: tlsKey, Leaf: leaf},
	}, nil
}

// write stores the tenant; on failure it removes what it created.
func (t *Tenant) write(dir string) error {
	caKey, err := keyPEM(t.CAKey)
	if err != nil {
		return err
	}
	signKey, err := keyPEM(t.Signing.Key)
	if err != nil {
		return err
	}
	tlsKey, err := keyPEM(t.TLS.PrivateKey.(crypto.Signer))
	if err != nil {
		return err
	}
	files := []struct {
		name string
		data []byte
		mode fs.FileMode
	}{
		{CAKeyFile, caKey, 0o600},
		{SigningKeyFile, signKey, 0o600},
		{TLSKeyFile, tlsKey, 0o600},
		{SigningCertFile, certPEM(t.Signing.Cert), 0o644},
		{TLSCertFile, certPEM(t.TLS.Leaf, t.CA), 0o644},
		// Last: Load treats a directory without it as uninitialised.
		{CACertFile, certPEM(t.CA), 0o644},
	}
	var written []string
	for _, f := range files {
		if err := writeNew(dir, f.name, f.data, f.mode); err != nil {
			for _, name := range written {
				os.Remove(filepath.Join(dir, name))
			}
			return err
		}
		written = append(written, f.name)
	}
	return atomicfile.SyncDir(dir)
}

// Load reads the tenant in dir and checks that its parts belong together.
func Load(dir string) (*Tenant, error) {
	certs, err := readCerts(filepath.Join(dir, CACertFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w in %s: run `mobileatwork-server init`", ErrNoTenant, dir)
	}
	if err != nil {
		return nil, fmt.Errorf("load tenant: %w", err)
	}
	ca := certs[0]
	t := &Tenant{CA: ca, Name: ca.Subject.CommonName}
	if len(ca.Subject.Organization) > 0 {
		t.Name = ca.Subject.Organization[0]
	}
	if t.CAKey, err = readKey(filepath.Join(dir, CAKeyFile)); err != nil {
		return nil, fmt.Errorf("load tenant: %w", err)
	}
	if t.Signing, err = readSigner(filepath.Join(dir, SigningFile)); errors.Is(err, fs.ErrNotExist) {
		// Never rotated: the files init wrote.
		if certs, err = readCerts(filepath.Join(dir, SigningCertFile)); err != nil {
			return nil, fmt.Errorf("load tenant: %w", err)
		}
		t.Signing.Cert = certs[0]
		if t.Signing.Key, err = readKey(filepath.Join(dir, SigningKeyFile)); err != nil {
			return nil, fmt.Errorf("load tenant: %w", err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("load tenant: %w", err)
	}
	prev, err := readSigner(filepath.Join(dir, PreviousSigningFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("load tenant: %w", err)
	case !prev.Cert.Equal(t.Signing.Cert):
		// Equal to the one in use: a rotation stopped before its switch.
		t.Previous = &prev
	}
	if t.Retired, err = readRetired(dir); err != nil {
		return nil, fmt.Errorf("load tenant: %w", err)
	}
	certs, tlsKey, err := readBundle(filepath.Join(dir, TLSFile))
	if errors.Is(err, fs.ErrNotExist) {
		// Never renewed: the files init wrote.
		if certs, err = readCerts(filepath.Join(dir, TLSCertFile)); err != nil {
			return nil, fmt.Errorf("load tenant: %w", err)
		}
		if tlsKey, err = readKey(filepath.Join(dir, TLSKeyFile)); err != nil {
			return nil, fmt.Errorf("load tenant: %w", err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("load tenant: %w", err)
	}
	t.TLS = tls.Certificate{PrivateKey: tlsKey, Leaf: certs[0]}
	for _, c := range certs {
		t.TLS.Certificate = append(t.TLS.Certificate, c.Raw)
	}

	checks := []struct {
		what string
		cert *x509.Certificate
		key  crypto.Signer
		eku  x509.ExtKeyUsage
	}{
		{"ca", ca, t.CAKey, x509.ExtKeyUsageAny},
		{"signing", t.Signing.Cert, t.Signing.Key, x509.ExtKeyUsageCodeSigning},
		{"tls", t.TLS.Leaf, tlsKey, x509.ExtKeyUsageServerAuth},
	}
	if t.Previous != nil {
		checks = append(checks, struct {
			what string
			cert *x509.Certificate
			key  crypto.Signer
			eku  x509.ExtKeyUsage
		}{"previous signing", t.Previous.Cert, t.Previous.Key, x509.ExtKeyUsageCodeSigning})
	}
	for _, c := range checks {
		if !samePublicKey(c.cert.PublicKey, c.key) {
			return nil, fmt.Errorf("load tenant in %s: %s key does not match its certificate", dir, c.what)
		}
		if c.cert == ca {
			continue
		}
		// Checked at issue time: this proves the files belong together.
		// An expired leaf still loads, so that admin commands keep working
		// and the operator can replace it.
		if err := verifyLeaf(ca, c.cert, c.cert.NotBefore, c.eku); err != nil {
			return nil, fmt.Errorf("load tenant in %s: %s certificate: %w", dir, c.what, err)
		}
	}
	return t, nil
}

// Signers trusts what this tenant signed: its signing certificates, by
// their bytes. The server reads back its own blobs with it.
func (t *Tenant) Signers() protocol.Signers {
	s := anyOf{t.Signing.Cert}
	if t.Previous != nil {
		s = append(s, t.Previous.Cert)
	}
	return s
}

// anyOf trusts any of its certificates, by their bytes.
type anyOf []*x509.Certificate

func (a anyOf) Trust(c *x509.Certificate) error {
	var err error
	for _, p := range a {
		if err = (protocol.Pinned{Cert: p}).Trust(c); err == nil {
			return nil
		}
	}
	return err
}

// CAPin is the SHA-256 of the CA certificate DER, which enrollment tokens
// carry so that the agent trusts nothing on first use.
func (t *Tenant) CAPin() [32]byte {
	return sha256.Sum256(t.CA.Raw)
}

// serverNames returns the TLS names: loopback first, then hostnames, each
// once. A hostname that parses as an IP address becomes an IP SAN.
func serverNames(hostnames []string) ([]string, []net.IP, error) {
	dnsNames := []string{"localhost"}
	ips := []net.IP{net.IPv4(127, 0, 0, 1).To4(), net.IPv6loopback}
	for _, h := range hostnames {
		h = strings.TrimSpace(h)
		if ip := net.ParseIP(h); ip != nil {
			if !slices.ContainsFunc(ips, ip.Equal) {
				ips = append(ips, ip)
			}
			continue
		}
		h = strings.ToLower(strings.TrimSuffix(h, "."))
		if h == "" || len(h) > 253 || strings.ContainsAny(h, " /:@\\") {
			return nil, nil, fmt.Errorf("invalid hostname %q", h)
		}
		if !slices.Contains(dnsNames, h) {
			dnsNames = append(dnsNames, h)
		}
	}
	return dnsNames, ips, nil
}

func newKey() (*ecdsa.PrivateKey, error) {
	return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
}

// createCert signs tmpl with a random serial; a nil parent self-signs.
func createCert(tmpl, parent *x509.Certificate, pub crypto.PublicKey, signer crypto.Signer) (*x509.Certificate, error) {
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	tmpl.SerialNumber = serial
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

// randomSerial returns a non-zero 128-bit serial: unpredictable serials
// are what the CA/Browser Forum asks for and make collisions negligible.
func randomSerial() (*big.Int, error) {
	b := make([]byte, 16)
	for {
		if _, err := rand.Read(b); err != nil {
			return nil, err
		}
		if n := new(big.Int).SetBytes(b); n.Sign() > 0 {
			return n, nil
		}
	}
}

func verifyLeaf(ca, leaf *x509.Certificate, at time.Time, eku x509.ExtKeyUsage) error {
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	_, err := leaf.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: at, KeyUsages: []x509.ExtKeyUsage{eku}})
	return err
}

func samePublicKey(pub crypto.PublicKey, key crypto.Signer) bool {
	k, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	return ok && k.Equal(pub)
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
