package protocol

import (
	"bytes"
	"crypto/x509"
	"fmt"
	"slices"
	"time"
)

// SigningPolicy is the certificate policy the tenant CA puts in every
// signing certificate, and in no other: with it an agent trusts a signer by
// its chain to the pinned CA rather than by its bytes, so the tenant can
// rotate its signing certificate without any device changing anything. It
// sits under the 2.25 arc (X.667: an OID made of a UUID), which needs no
// registration and collides with no one's.
var SigningPolicy = mustOID("2.25.329399887336862555876604865507594675198")

func mustOID(s string) x509.OID {
	oid, err := x509.ParseOID(s)
	if err != nil {
		panic(err)
	}
	return oid
}

// HasSigningPolicy tells whether c is marked as a tenant signing certificate.
func HasSigningPolicy(c *x509.Certificate) bool {
	return c != nil && slices.ContainsFunc(c.Policies, SigningPolicy.Equal)
}

// Signers decides whether the certificate a message is signed by may sign
// what the device acts on. Verify asks it after the message's structure is
// checked and before the signature is.
type Signers interface {
	Trust(signer *x509.Certificate) error
}

// Pinned trusts exactly one certificate, compared byte for byte.
type Pinned struct{ Cert *x509.Certificate }

// Trust accepts only the pinned certificate.
func (p Pinned) Trust(c *x509.Certificate) error {
	if p.Cert == nil {
		return fmt.Errorf("%w: no pinned signing certificate", ErrWrongSigner)
	}
	if !bytes.Equal(c.Raw, p.Cert.Raw) {
		return fmt.Errorf("%w: signed by %q", ErrWrongSigner, c.Subject.CommonName)
	}
	return nil
}

// Chain is the agent's trust in the tenant's signers: a certificate issued
// by the pinned tenant CA, valid now, for code signing and carrying
// SigningPolicy. Pinned, the signing certificate received at enrollment, is
// also trusted by its bytes when it lacks the policy: tenants made before
// it keep working as they did. Retired refuses, before anything else, a
// certificate the tenant retired, whichever way it would be trusted: its
// chain stays valid until it expires.
type Chain struct {
	CA      *x509.Certificate
	Pinned  *x509.Certificate
	Now     func() time.Time              // nil is time.Now
	Retired func(fingerprint string) bool // nil retires nothing
	// Cache, when set, spares the chain's signature check for a signer
	// verified before (nil checks every time); Retired is asked first,
	// at every use.
	Cache *TrustCache
}

// Trust accepts the legacy pinned certificate, or one that chains to CA
// with the signing usage and policy, unless it was retired.
func (ch Chain) Trust(c *x509.Certificate) error {
	fp := Fingerprint(c)
	if ch.Retired != nil && ch.Retired(fp) {
		return fmt.Errorf("%w: %w: %q (SHA-256 %s)", ErrWrongSigner, ErrRetiredSigner, c.Subject.CommonName, fp)
	}
	if ch.Pinned != nil && !HasSigningPolicy(ch.Pinned) && bytes.Equal(c.Raw, ch.Pinned.Raw) {
		return nil
	}
	if ch.CA == nil {
		return fmt.Errorf("%w: no pinned tenant CA", ErrWrongSigner)
	}
	if !HasSigningPolicy(c) {
		return fmt.Errorf("%w: %q is not a tenant signing certificate", ErrWrongSigner, c.Subject.CommonName)
	}
	now := time.Now
	if ch.Now != nil {
		now = ch.Now
	}
	at := now()
	// A device clock that runs slow may be up to ClockSkew behind a signer
	// made a moment ago, as behind the answer it signs; its expiry is
	// still checked at the device's time.
	if at.Before(c.NotBefore) && c.NotBefore.Sub(at) <= ClockSkew {
		at = c.NotBefore
	}
	if ch.Cache.verified(fp, ch.CA, at) {
		return nil
	}
	roots := x509.NewCertPool()
	roots.AddCert(ch.CA)
	if _, err := c.Verify(x509.VerifyOptions{
		Roots: roots, CurrentTime: at, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
	}); err != nil {
		return fmt.Errorf("%w: %q: %v", ErrWrongSigner, c.Subject.CommonName, err)
	}
	ch.Cache.remember(fp, ch.CA, c)
	return nil
}
