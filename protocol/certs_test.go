package protocol

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"sync"
	"testing"
	"time"
)

// RSA key generation dominates test time, so keys are made once per size
// and index and shared; each caller gets its own certificate.
var (
	rsaKeysMu sync.Mutex
	rsaKeys   = map[[2]int]*rsa.PrivateKey{}
)

func testRSAKey(t testing.TB, bits, index int) *rsa.PrivateKey {
	t.Helper()
	rsaKeysMu.Lock()
	defer rsaKeysMu.Unlock()
	k := rsaKeys[[2]int{bits, index}]
	if k == nil {
		var err error
		if k, err = rsa.GenerateKey(rand.Reader, bits); err != nil {
			t.Fatal(err)
		}
		rsaKeys[[2]int{bits, index}] = k
	}
	return k
}

// testCA is a throwaway tenant CA.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newTestCA(t testing.TB, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          testSerial(t),
		Subject:               pkix.Name{CommonName: name + " CA", Organization: []string{name}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key}
}

// issue signs a leaf certificate for pub.
func (ca *testCA) issue(t testing.TB, cn string, pub crypto.PublicKey, ku x509.KeyUsage, eku x509.ExtKeyUsage) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: testSerial(t),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     ku,
		ExtKeyUsage:  []x509.ExtKeyUsage{eku},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, pub, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// signer mints an ECDSA P-256 signing certificate.
func (ca *testCA) signer(t testing.TB, cn string) Signer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return Signer{Cert: ca.issue(t, cn, &key.PublicKey, x509.KeyUsageDigitalSignature, x509.ExtKeyUsageCodeSigning), Key: key}
}

// rsaSigner mints an RSA signing certificate from the shared key pool.
func (ca *testCA) rsaSigner(t testing.TB, cn string, bits, index int) Signer {
	t.Helper()
	key := testRSAKey(t, bits, index)
	return Signer{Cert: ca.issue(t, cn, &key.PublicKey, x509.KeyUsageDigitalSignature, x509.ExtKeyUsageCodeSigning), Key: key}
}

// device mints a device certificate on an RSA 2048 key from the pool.
func (ca *testCA) device(t testing.TB, id string, index int) (*x509.Certificate, *rsa.PrivateKey) {
	t.Helper()
	key := testRSAKey(t, 2048, index)
	cert := ca.issue(t, id, &key.PublicKey, x509.KeyUsageDigitalSignature|x509.KeyUsageKeyEncipherment, x509.ExtKeyUsageClientAuth)
	return cert, key
}

func testSerial(t testing.TB) *big.Int {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		t.Fatal(err)
	}
	return n.Add(n, big.NewInt(1))
}
