package protocol

import (
	"crypto/sha256"
	"crypto/x509"
	"sync"
	"time"
)

// maxTrusted bounds a TrustCache: a tenant has one signing certificate, two
// during a rotation, so a handful is plenty and a flood of certificates
// cannot grow it.
const maxTrusted = 8

// TrustCache remembers the signing certificates a Chain verified, by their
// bytes and those of the CA, so a device that verifies every answer of the
// same signer checks the chain's signature once rather than at every
// message. What can change with time is still checked at every use: the
// certificate and the CA must both be valid at the message's time. The zero
// value is ready; it is safe for concurrent use.
type TrustCache struct {
	mu sync.Mutex
	m  map[[sha256.Size]byte]validity
}

// validity is when both the signer and its CA are valid.
type validity struct{ notBefore, notAfter time.Time }

func trustKey(ca, c *x509.Certificate) [sha256.Size]byte {
	h := sha256.New()
	h.Write(ca.Raw)
	h.Write(c.Raw)
	var k [sha256.Size]byte
	h.Sum(k[:0])
	return k
}

// verified tells whether c, issued by ca, was verified before and both are
// valid at at.
func (t *TrustCache) verified(ca, c *x509.Certificate, at time.Time) bool {
	if t == nil {
		return false
	}
	t.mu.Lock()
	v, ok := t.m[trustKey(ca, c)]
	t.mu.Unlock()
	return ok && !at.Before(v.notBefore) && !at.After(v.notAfter)
}

// remember records that c chains to ca with the signing usage.
func (t *TrustCache) remember(ca, c *x509.Certificate) {
	if t == nil {
		return
	}
	v := validity{notBefore: later(c.NotBefore, ca.NotBefore), notAfter: earlier(c.NotAfter, ca.NotAfter)}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil || len(t.m) >= maxTrusted {
		t.m = make(map[[sha256.Size]byte]validity)
	}
	t.m[trustKey(ca, c)] = v
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
