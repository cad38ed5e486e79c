package agent

import (
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/jonboulle/clockwork"

	"github.com/mobileatwork/mobileatwork/protocol"
)

// ErrAlreadyEnrolled is returned when the state directory holds an identity.
var ErrAlreadyEnrolled = errors.New("this device is already enrolled")

// EnrollOptions are the inputs of enrollment.
type EnrollOptions struct {
	StateDir     string
	ServerURL    string
	Token        string
	Facts        protocol.Facts
	Capabilities []string
	Clock        clockwork.Clock // nil is the real clock
	// Key is the device key; nil makes a fresh one. A load generator gives
	// many simulated devices a few keys: making one takes a quarter second.
	Key *rsa.PrivateKey
}

// Enroll registers the device with its tenant: it checks the server's chain
// against the CA pinned in the token before sending anything, sends a CSR for
// a fresh device key with the token, and stores the identity (key 0600,
// state directory 0700). Nothing is written unless enrollment succeeds.
func Enroll(ctx context.Context, o EnrollOptions) (*Identity, error) {
	if _, err := os.Stat(filepath.Join(o.StateDir, identityFile)); err == nil {
		return nil, fmt.Errorf("%w (identity in %s): run `mobileatwork uninstall` first to enroll again", ErrAlreadyEnrolled, o.StateDir)
	}
	tok, err := protocol.ParseEnrollToken(o.Token)
	if err != nil {
		return nil, fmt.Errorf("enroll: %w: copy the whole token printed by `mobileatwork-server token create`", err)
	}
	base := strings.TrimRight(o.ServerURL, "/")
	host, err := serverName(base)
	if err != nil {
		return nil, fmt.Errorf("enroll: %w", err)
	}
	key, csr, err := deviceCSR(o.Key)
	if err != nil {
		return nil, fmt.Errorf("enroll: %w", err)
	}
	client := newHTTPClient(pinnedTLS(host, tok.CAPin), 2)
	body, err := do(ctx, client, "POST", base+protocol.PathEnroll, protocol.EnrollRequest{
		ProtocolVersion: protocol.Version, Token: o.Token, CSR: csr, Facts: o.Facts, Capabilities: o.Capabilities,
	}, protocol.MaxResponseBody)
	if err != nil {
		return nil, fmt.Errorf("enroll with %s: %w", base, err)
	}
	var resp protocol.EnrollResponse
	if err := json.Unmarshal(body, &resp); err != nil {
		return nil, fmt.Errorf("enroll: bad answer: %w", err)
	}
	clock := o.Clock
	if clock == nil {
		clock = clockwork.NewRealClock()
	}
	id := &Identity{
		DeviceID: resp.DeviceID, ServerURL: base, Certificate: resp.Certificate,
		SigningCert: resp.SigningCert, CACert: resp.CACert, EnrolledAt: clock.Now().UTC(),
	}
	if err := id.parse(); err != nil {
		return nil, fmt.Errorf("enroll: bad answer: %w", err)
	}
	if err := checkEnrollment(id, key, tok.CAPin); err != nil {
		return nil, fmt.Errorf("enroll: %w", err)
	}
	if err := ensureStateDir(o.StateDir); err != nil {
		return nil, err
	}
	if err := saveIdentity(o.StateDir, id, key); err != nil {
		return nil, fmt.Errorf("enroll: %w", err)
	}
	id.key = key
	return id, nil
}

// checkEnrollment refuses an answer that does not fit together: the CA must
// be the pinned one, and the device certificate must be for our key, issued
// by that CA, and named after the device id.
func checkEnrollment(id *Identity, key *rsa.PrivateKey, pin [32]byte) error {
	if sha256.Sum256(id.CACert) != pin {
		return ErrPinMismatch
	}
	if err := id.cert.CheckSignatureFrom(id.ca); err != nil {
		return fmt.Errorf("device certificate not issued by the tenant CA: %w", err)
	}
	if err := id.signing.CheckSignatureFrom(id.ca); err != nil {
		return fmt.Errorf("signing certificate not issued by the tenant CA: %w", err)
	}
	if id.cert.Subject.CommonName != id.DeviceID || id.DeviceID == "" {
		return fmt.Errorf("device certificate is for %q, not device %q", id.cert.Subject.CommonName, id.DeviceID)
	}
	if !key.PublicKey.Equal(id.cert.PublicKey) {
		return errors.New("device certificate is not for this device's key")
	}
	return nil
}
