package protocol

import (
	"bytes"
	"crypto/x509"
	"sync"
	"time"
)

// maxTrusted bounds a TrustCache: a tenant has one signing certificate, two
// during a rotation, so a handful is plenty and a flood of certificates
// cannot grow it.
const maxTrusted = 8

// TrustCache remembers the signing certificates a Chain verified, by their
// Fingerprint, with the CA each chained to, so a device that
// verifies every answer of the same signer checks the chain's signature
// once rather than at every message. What can change with time is still
// checked at every use: the certificate and the CA must both be valid at
// the message's time. The zero value is ready; it is safe for concurrent
// use.
type TrustCache struct {
	mu sync.Mutex
	m  map[string]verified
}

// verified is a signer checked against the CA of raw bytes ca, and when
// both are valid.
type verified struct {
	ca                  []byte
	notBefore, notAfter time.Time
}

// verified tells whether the certificate of fingerprint fp was verified
// before against ca, and both are valid at at.
func (t *TrustCache) verified(fp string, ca *x509.Certificate, at time.Time) bool {
	if t == nil {
		return false
	}
	t.mu.Lock()
	v, ok := t.m[fp]
	t.mu.Unlock()
	return ok && bytes.Equal(v.ca, ca.Raw) && !at.Before(v.notBefore) && !at.After(v.notAfter)
}

// remember records that c, of fingerprint fp, chains to ca with the
// signing usage.
func (t *TrustCache) remember(fp string, ca, c *x509.Certificate) {
	if t == nil {
		return
	}
	v := verified{ca: ca.Raw, notBefore: later(c.NotBefore, ca.NotBefore), notAfter: earlier(c.NotAfter, ca.NotAfter)}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil || len(t.m) >= maxTrusted {
		t.m = make(map[string]verified)
	}
	t.m[fp] = v
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
