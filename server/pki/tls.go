package pki

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"path/filepath"
	"time"

	"github.com/mobileatwork/mobileatwork/internal/atomicfile"
)

// TLSFile is the server TLS certificate, the CA and the key in one file,
// written by RenewTLS so that one rename replaces them together; before a
// renewal they are TLSCertFile and TLSKeyFile.
const TLSFile = "tls.pem"

// RenewTLS makes a new server TLS key and certificate for the names the
// current one has, two years from now. serve uses it once restarted.
func RenewTLS(dir string, now time.Time) (*Tenant, error) {
	t, err := Load(dir)
	if err != nil {
		return nil, fmt.Errorf("renew server TLS certificate: %w", err)
	}
	old := t.TLS.Leaf
	key, err := newKey()
	if err != nil {
		return nil, fmt.Errorf("renew server TLS certificate: %w", err)
	}
	leaf, err := createCert(&x509.Certificate{
		Subject:     old.Subject,
		NotBefore:   now.Add(-backdate),
		NotAfter:    minTime(now.Add(tlsValidity), t.CA.NotAfter),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:    old.DNSNames,
		IPAddresses: old.IPAddresses,
	}, t.CA, key.Public(), t.CAKey)
	if err != nil {
		return nil, fmt.Errorf("renew server TLS certificate: %w", err)
	}
	pemKey, err := keyPEM(key)
	if err != nil {
		return nil, fmt.Errorf("renew server TLS certificate: %w", err)
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, TLSFile), append(certPEM(leaf, t.CA), pemKey...), 0o600); err != nil {
		return nil, fmt.Errorf("renew server TLS certificate: %w", err)
	}
	removeLegacy(dir, TLSFile, TLSCertFile, TLSKeyFile)
	t.TLS = tls.Certificate{Certificate: [][]byte{leaf.Raw, t.CA.Raw}, PrivateKey: key, Leaf: leaf}
	return t, nil
}
