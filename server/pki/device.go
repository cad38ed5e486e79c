package pki

import (
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"time"
)

// Errors of IssueDevice.
var (
	// ErrBadCSR means the request does not parse or is not signed by the
	// key it carries, so it proves no possession of that key.
	ErrBadCSR = errors.New("bad certificate request")
	// ErrDeviceKey means the device key is not RSA of an accepted size:
	// key envelopes are encrypted to it with RSA-OAEP.
	ErrDeviceKey = errors.New("device key must be RSA, 3072 to 8192 bits")
)

// Device key sizes: the floor matches the agent's key, the ceiling bounds
// the work an enrollment request can cost the server.
const (
	minDeviceRSABits = 3072
	maxDeviceRSABits = 8192
)

// CheckDeviceCSR checks an enrolling device's CSR without signing
// anything: it parses, is signed by the key it carries, and that key is RSA
// of an accepted size. It returns the key. Enrollment checks the CSR
// before it uses the token, so a bad request does not burn it.
func CheckDeviceCSR(csrDER []byte) (*rsa.PublicKey, error) {
	csr, err := x509.ParseCertificateRequest(csrDER)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadCSR, err)
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadCSR, err)
	}
	pub, ok := csr.PublicKey.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: got %T", ErrDeviceKey, csr.PublicKey)
	}
	if bits := pub.N.BitLen(); bits < minDeviceRSABits || bits > maxDeviceRSABits {
		return nil, fmt.Errorf("%w: got %d bits", ErrDeviceKey, bits)
	}
	return pub, nil
}

// IssueDevice issues the certificate of an enrolling device from its CSR.
// Only the CSR's public key is used: the subject is the device id the
// server chose, and no requested extension is copied, so a device cannot
// ask for a name or usage it was not given.
func (t *Tenant) IssueDevice(csrDER []byte, deviceID string, now time.Time) (*x509.Certificate, error) {
	return t.issueDevice(csrDER, deviceID, now.Add(-backdate), now)
}

// RenewDevice issues a device's renewed certificate, under the rules of
// IssueDevice. It is valid from when current was, if earlier: a server whose
// clock ran ahead and was then put right must not refuse, as not yet valid,
// the devices that renewed meanwhile.
func (t *Tenant) RenewDevice(csrDER []byte, deviceID string, current *x509.Certificate, now time.Time) (*x509.Certificate, error) {
	return t.issueDevice(csrDER, deviceID, minTime(now.Add(-backdate), current.NotBefore), now)
}

func (t *Tenant) issueDevice(csrDER []byte, deviceID string, notBefore, now time.Time) (*x509.Certificate, error) {
	if deviceID == "" || len(deviceID) > 64 {
		return nil, fmt.Errorf("issue device certificate: device id must be 1 to 64 characters, got %q", deviceID)
	}
	pub, err := CheckDeviceCSR(csrDER)
	if err != nil {
		return nil, fmt.Errorf("issue device certificate for %s: %w", deviceID, err)
	}
	cert, err := createCert(&x509.Certificate{
		Subject:   pkix.Name{CommonName: deviceID, Organization: []string{t.Name}},
		NotBefore: notBefore,
		NotAfter:  minTime(now.Add(DeviceValidity), t.CA.NotAfter),
		// Digital signature for TLS client authentication, key
		// encipherment for the key envelopes encrypted to the device.
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, t.CA, pub, t.CAKey)
	if err != nil {
		return nil, fmt.Errorf("issue device certificate for %s: %w", deviceID, err)
	}
	return cert, nil
}
