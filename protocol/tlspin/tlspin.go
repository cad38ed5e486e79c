// Package tlspin trusts a TLS server whose chain ends at a CA known only by
// the SHA-256 of its certificate: the pin enrollment tokens carry and
// `mobileatwork-server init` prints.
package tlspin

import (
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
)

// ErrMismatch is a server whose chain does not end at the pinned CA.
var ErrMismatch = errors.New("server certificate chain does not match the tenant CA pinned by the token")

// Config trusts exactly the CA whose SHA-256 is pin. Go cannot express "a
// root I only know by hash" in RootCAs, so the default verification is
// replaced — not skipped — by Verify, which performs the full chain and
// hostname verification against that one root. This is the documented use
// of InsecureSkipVerify together with VerifyConnection.
func Config(serverName string, pin [32]byte) *tls.Config {
	return &tls.Config{
		MinVersion:         tls.VersionTLS12,
		ServerName:         serverName,
		InsecureSkipVerify: true, // replaced by VerifyConnection below
		VerifyConnection: func(cs tls.ConnectionState) error {
			return Verify(cs, serverName, pin)
		},
	}
}

// Verify checks that cs's chain, as the server sent it, ends at the CA
// pinned by pin and is valid for serverName.
func Verify(cs tls.ConnectionState, serverName string, pin [32]byte) error {
	if len(cs.PeerCertificates) == 0 {
		return ErrMismatch
	}
	roots := x509.NewCertPool()
	inter := x509.NewCertPool()
	found := false
	for _, c := range cs.PeerCertificates[1:] {
		if h := sha256.Sum256(c.Raw); subtle.ConstantTimeCompare(h[:], pin[:]) == 1 {
			roots.AddCert(c)
			found = true
		} else {
			inter.AddCert(c)
		}
	}
	if !found {
		return ErrMismatch
	}
	_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{
		DNSName: serverName, Roots: roots, Intermediates: inter,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	if err != nil {
		return fmt.Errorf("%w: %v", ErrMismatch, err)
	}
	return nil
}
