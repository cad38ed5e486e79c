package pki

import (
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/mobileatwork/mobileatwork/internal/atomicfile"
	"github.com/mobileatwork/mobileatwork/protocol"
)

// Files of a rotated signing certificate: certificate and key in one file,
// so that one rename replaces both.
const (
	// SigningFile is the signing certificate and key in use once the tenant
	// rotated; before that they are SigningCertFile and SigningKeyFile.
	SigningFile = "signing.pem"
	// PreviousSigningFile is the signing certificate and key a rotation
	// replaced, kept until it is retired.
	PreviousSigningFile = "signing-previous.pem"
	// RetiredSigningFile lists the signing certificates retired so far,
	// which agents learn to refuse.
	RetiredSigningFile = "signing-retired.json"
)

// RetiredSigner is a signing certificate retire-signing removed: agents
// refuse it by its fingerprint, though its chain stays valid until it
// expires.
type RetiredSigner struct {
	Serial    string    `json:"serial"`    // hex
	SHA256    string    `json:"sha256"`    // protocol.Fingerprint
	NotAfter  time.Time `json:"not_after"` // when the chain stops vouching for it
	RetiredAt time.Time `json:"retired_at"`
}

// Errors of rotation.
var (
	// ErrRotating means a previous signing certificate is still kept: it
	// is retired before the next rotation.
	ErrRotating = errors.New("a previous signing certificate is still kept")
	// ErrNoPrevious means there is no previous signing certificate to retire.
	ErrNoPrevious = errors.New("no previous signing certificate")
)

// signingTemplate is what every signing certificate of a tenant is.
func signingTemplate(name string, ca *x509.Certificate, now time.Time) *x509.Certificate {
	return &x509.Certificate{
		Subject:   pkix.Name{CommonName: name + " Mobile@Work signing", Organization: []string{name}},
		NotBefore: now.Add(-backdate),
		NotAfter:  minTime(now.Add(signingValidity), ca.NotAfter),
		KeyUsage:  x509.KeyUsageDigitalSignature,
		// Code signing: what it signs is, in the end, code to run as root.
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		// Agents trust a signer by chain to the CA and this policy.
		Policies: []x509.OID{protocol.SigningPolicy},
	}
}

// RotateSigning makes a new signing key and certificate in dir and keeps
// the one in use as the previous one: the server signs with the new one,
// and, for agents that trust only the certificate they pinned, with the
// previous one until it is retired. Two durable writes, the previous one
// first: a kill between them leaves the previous file equal to the one in
// use, which Load ignores.
func RotateSigning(dir string, now time.Time) (*Tenant, error) {
	t, err := Load(dir)
	if err != nil {
		return nil, fmt.Errorf("rotate signing certificate: %w", err)
	}
	if t.Previous != nil {
		return nil, fmt.Errorf("rotate signing certificate: %w (serial %x): retire it first with `mobileatwork-server pki retire-signing`",
			ErrRotating, t.Previous.Cert.SerialNumber)
	}
	key, err := newKey()
	if err != nil {
		return nil, fmt.Errorf("rotate signing certificate: %w", err)
	}
	cert, err := createCert(signingTemplate(t.Name, t.CA, now), t.CA, key.Public(), t.CAKey)
	if err != nil {
		return nil, fmt.Errorf("rotate signing certificate: %w", err)
	}
	next := protocol.Signer{Cert: cert, Key: key}
	for _, f := range []struct {
		name string
		s    protocol.Signer
	}{{PreviousSigningFile, t.Signing}, {SigningFile, next}} {
		b, err := signerPEM(f.s)
		if err != nil {
			return nil, fmt.Errorf("rotate signing certificate: %w", err)
		}
		if err := atomicfile.WriteFile(filepath.Join(dir, f.name), b, 0o600); err != nil {
			return nil, fmt.Errorf("rotate signing certificate: %w", err)
		}
	}
	// The files of the tenant's first signer are superseded by SigningFile.
	removeLegacySigning(dir)
	prev := t.Signing
	t.Signing, t.Previous = next, &prev
	return t, nil
}

// RetireSigning removes the previous signing certificate: the server no
// longer signs with it, and lists it among the retired ones, which agents
// refuse. The caller checks first that no device needs it. The list is
// written first: a kill before the removal leaves the certificate kept
// and listed, and running it again completes it without listing it twice.
func RetireSigning(dir string, now time.Time) (*Tenant, error) {
	t, err := Load(dir)
	if err != nil {
		return nil, fmt.Errorf("retire signing certificate: %w", err)
	}
	if t.Previous == nil {
		return nil, fmt.Errorf("retire signing certificate: %w", ErrNoPrevious)
	}
	c := t.Previous.Cert
	if fp := protocol.Fingerprint(c); !slices.ContainsFunc(t.Retired, func(r RetiredSigner) bool { return r.SHA256 == fp }) {
		t.Retired = append(t.Retired, RetiredSigner{Serial: c.SerialNumber.Text(16), SHA256: fp, NotAfter: c.NotAfter.UTC(), RetiredAt: now.UTC()})
		if err := atomicfile.WriteJSON(filepath.Join(dir, RetiredSigningFile), t.Retired, 0o600); err != nil {
			return nil, fmt.Errorf("retire signing certificate: %w", err)
		}
	}
	if err := os.Remove(filepath.Join(dir, PreviousSigningFile)); err != nil {
		return nil, fmt.Errorf("retire signing certificate: %w", err)
	}
	if err := atomicfile.SyncDir(dir); err != nil {
		return nil, fmt.Errorf("retire signing certificate: %w", err)
	}
	t.Previous = nil
	return t, nil
}

// readRetired reads the list of retired signing certificates; none when
// there is no file.
func readRetired(dir string) ([]RetiredSigner, error) {
	var list []RetiredSigner
	if err := atomicfile.ReadJSON(filepath.Join(dir, RetiredSigningFile), &list); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("read retired signing certificates: %w", err)
	}
	if err := protocol.CheckFingerprints(fingerprints(list)); err != nil {
		return nil, fmt.Errorf("read %s: %w", RetiredSigningFile, err)
	}
	return list, nil
}

// RetiredFingerprints are the fingerprints of the retired signing
// certificates, oldest first, as check-in answers list them.
func (t *Tenant) RetiredFingerprints() []string { return fingerprints(t.Retired) }

// fingerprints are the fingerprints of list, in its order; nil for none.
func fingerprints(list []RetiredSigner) []string {
	var fps []string
	for _, r := range list {
		fps = append(fps, r.SHA256)
	}
	return fps
}

func removeLegacySigning(dir string) { removeLegacy(dir, SigningFile, SigningCertFile, SigningKeyFile) }

// removeLegacy removes the two files of init that bundle replaced, once it
// is in place; a kill before leaves them, and Load prefers the bundle.
func removeLegacy(dir, bundle string, names ...string) {
	if _, err := os.Stat(filepath.Join(dir, bundle)); err != nil {
		return
	}
	for _, name := range names {
		os.Remove(filepath.Join(dir, name))
	}
	atomicfile.SyncDir(dir)
}

func signerPEM(s protocol.Signer) ([]byte, error) {
	key, err := keyPEM(s.Key)
	if err != nil {
		return nil, err
	}
	return append(certPEM(s.Cert), key...), nil
}

// readSigner reads a signer file (certificate, then key); ErrNotExist when
// there is none.
func readSigner(path string) (protocol.Signer, error) {
	certs, key, err := readBundle(path)
	if err != nil {
		return protocol.Signer{}, err
	}
	if len(certs) != 1 {
		return protocol.Signer{}, fmt.Errorf("read %s: want one certificate, found %d", path, len(certs))
	}
	return protocol.Signer{Cert: certs[0], Key: key}, nil
}

// readBundle reads a file of certificates and one private key, refusing one
// others can read; ErrNotExist when there is none.
func readBundle(path string) ([]*x509.Certificate, crypto.Signer, error) {
	data, err := readPrivate(path)
	if err != nil {
		return nil, nil, err
	}
	var (
		certs []*x509.Certificate
		key   crypto.Signer
	)
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		switch b.Type {
		case "CERTIFICATE":
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil, nil, fmt.Errorf("read %s: %w", path, err)
			}
			certs = append(certs, c)
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
			if err != nil {
				return nil, nil, fmt.Errorf("read %s: %w", path, err)
			}
			if key, err = asSigner(k, path); err != nil {
				return nil, nil, err
			}
		default:
			return nil, nil, fmt.Errorf("read %s: unexpected PEM block %q", path, b.Type)
		}
	}
	if len(certs) == 0 || key == nil {
		return nil, nil, fmt.Errorf("read %s: want certificates and a private key", path)
	}
	return certs, key, nil
}
