package agent

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/mobileatwork/mobileatwork/internal/atomicfile"
)

// ErrNotEnrolled is returned by everything that needs an identity.
var ErrNotEnrolled = errors.New("this device is not enrolled")

// Files of the state directory.
const (
	keyFile      = "device.key"
	identityFile = "identity.json"
	// nextFile is a renewed identity the server has not seen in use yet
	// (renew.go).
	nextFile    = "identity.next.json"
	statusFile  = "status.json"
	payloadFile = "checkin.json"
	// retiredSignersFile lists the signing certificates the tenant retired.
	retiredSignersFile = "retired-signers.json"
	outboxDir          = "outbox"
	ledgerDir          = "ledger"
	runDir             = "run"
)

// deviceKeyBits is RSA because PKCS#7 key transport (how script keys reach
// the device) needs RSA; 3072 bits for 128-bit security.
const deviceKeyBits = 3072

// Identity is what enrollment leaves in the state directory.
type Identity struct {
	DeviceID    string    `json:"device_id"`
	ServerURL   string    `json:"server_url"`
	Certificate []byte    `json:"certificate"`  // DER
	SigningCert []byte    `json:"signing_cert"` // DER, pinned signer of responses and scripts
	CACert      []byte    `json:"ca_cert"`      // DER, pinned root of the server's TLS chain
	EnrolledAt  time.Time `json:"enrolled_at"`
	// Key is the device key (PEM PKCS#8) of an identity written by
	// renewal, so that one rename replaces certificate and key together;
	// without it the key is device.key, as enrollment writes it.
	KeyPEM []byte `json:"key,omitempty"`

	cert, signing, ca *x509.Certificate
	key               *rsa.PrivateKey
}

func (id *Identity) parse() error {
	var err error
	if id.cert, err = x509.ParseCertificate(id.Certificate); err != nil {
		return fmt.Errorf("device certificate: %w", err)
	}
	if id.signing, err = x509.ParseCertificate(id.SigningCert); err != nil {
		return fmt.Errorf("tenant signing certificate: %w", err)
	}
	if id.ca, err = x509.ParseCertificate(id.CACert); err != nil {
		return fmt.Errorf("tenant CA certificate: %w", err)
	}
	return nil
}

// ensureStateDir creates the state directory, root-only.
func ensureStateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("state directory %s: %w", dir, err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("state directory %s: %w", dir, err)
	}
	return nil
}

// ensureUserRunDir creates the parent of console-user run directories:
// others may traverse it to their own run directory, never list or change
// it (the executor refuses any other parent for them).
func ensureUserRunDir(dir string) error {
	if err := os.MkdirAll(dir, 0o711); err != nil {
		return fmt.Errorf("run directory %s: %w", dir, err)
	}
	if err := os.Chmod(dir, 0o711); err != nil {
		return fmt.Errorf("run directory %s: %w", dir, err)
	}
	return nil
}

// LoadIdentity reads the identity and device key from the state directory.
func LoadIdentity(dir string) (*Identity, error) {
	id, err := readIdentity(filepath.Join(dir, identityFile), filepath.Join(dir, keyFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w (no identity in %s): run `mobileatwork enroll --server URL --token TOKEN`", ErrNotEnrolled, dir)
	}
	return id, err
}

// readIdentity reads an identity file, its key embedded or in keyPath, and
// checks that key and certificate belong together.
func readIdentity(path, keyPath string) (*Identity, error) {
	var id Identity
	if err := atomicfile.ReadJSON(path, &id); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("read identity: %w", err)
	}
	if err := id.parse(); err != nil {
		return nil, fmt.Errorf("read identity: %w", err)
	}
	b := id.KeyPEM
	if len(b) == 0 {
		var err error
		if b, err = os.ReadFile(keyPath); err != nil {
			return nil, fmt.Errorf("read device key: %w", err)
		}
	}
	k, err := parseKey(b)
	if err != nil {
		return nil, fmt.Errorf("read device key: %w", err)
	}
	if !k.PublicKey.Equal(id.cert.PublicKey) {
		return nil, fmt.Errorf("read identity %s: the device key does not match the device certificate", path)
	}
	id.key = k
	return &id, nil
}

func parseKey(b []byte) (*rsa.PrivateKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, fmt.Errorf("not PEM")
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, err
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("not RSA")
	}
	return rk, nil
}

func keyPEM(key *rsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode device key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// NewDeviceKey makes a device key.
func NewDeviceKey() (*rsa.PrivateKey, error) {
	k, err := rsa.GenerateKey(rand.Reader, deviceKeyBits)
	if err != nil {
		return nil, fmt.Errorf("generate device key: %w", err)
	}
	return k, nil
}

// deviceCSR makes a CSR for k, or for a new device key when k is nil. The
// subject is a placeholder: the server names the certificate after the
// device id.
func deviceCSR(k *rsa.PrivateKey) (*rsa.PrivateKey, []byte, error) {
	if k == nil {
		var err error
		if k, err = NewDeviceKey(); err != nil {
			return nil, nil, err
		}
	}
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: "mobileatwork device"},
	}, k)
	if err != nil {
		return nil, nil, fmt.Errorf("make certificate request: %w", err)
	}
	return k, csr, nil
}

func saveIdentity(dir string, id *Identity, key *rsa.PrivateKey) error {
	pemKey, err := keyPEM(key)
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, keyFile), pemKey, 0o600); err != nil {
		return err
	}
	// The identity goes last: its presence means enrollment completed.
	return atomicfile.WriteJSON(filepath.Join(dir, identityFile), id, 0o600)
}

// Key is the device key.
func (id *Identity) Key() *rsa.PrivateKey { return id.key }
