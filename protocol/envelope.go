package protocol

import (
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/smallstep/pkcs7"

	"github.com/mobileatwork/mobileatwork/protocol/cms"
)

// Refusal reasons. Every error of the Open and Verify functions wraps one of
// these, so that the agent can report a precise "rejected" result and tests
// can tell refusals apart with errors.Is.
var (
	ErrBadSignature    = errors.New("bad signature")
	ErrWrongSigner     = errors.New("not signed by the tenant signing certificate")
	ErrAlgorithm       = errors.New("algorithm not accepted")
	ErrBadEnvelope     = errors.New("malformed envelope")
	ErrDigestMismatch  = errors.New("sha-256 mismatch")
	ErrWrongDevice     = errors.New("meant for another device")
	ErrNonceMismatch   = errors.New("nonce mismatch")
	ErrExpired         = errors.New("outside its validity window")
	ErrWrongAssignment = errors.New("meant for another assignment")
	ErrVersion         = errors.New("unsupported protocol version")
)

// MinNonceBytes is the shortest check-in nonce OpenCheckin accepts: a
// shorter one would make replaying an old response guessable.
const MinNonceBytes = 16

// ClockSkew is how far ahead of the device clock a check-in response may be
// issued and still be accepted. The echoed nonce of this request already
// proves the answer fresh, so issued_at only guards against a signing clock
// gone wild: a Mac whose clock runs minutes or hours slow must not refuse
// every answer. The expiry is checked as it is.
const ClockSkew = 24 * time.Hour

// blobAAD binds a blob to its purpose and format version: a GCM ciphertext
// made for anything else under the same key does not open as a blob.
var blobAAD = []byte("mobileatwork blob v1")

// Signer is the tenant signing certificate with its private key.
type Signer struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// Sign returns a DER PKCS#7 SignedData over content: SHA-256, signed
// attributes, and the signer certificate included (package cms encodes
// it; agents parse it with the pkcs7 library).
func Sign(content []byte, s Signer) ([]byte, error) {
	if s.Cert == nil || s.Key == nil {
		return nil, errors.New("sign: signer certificate or key missing")
	}
	if k, ok := s.Key.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !k.Equal(s.Cert.PublicKey) {
		return nil, errors.New("sign: key does not match the signer certificate")
	}
	if len(content) == 0 {
		return nil, errors.New("sign: empty content")
	}
	der, err := cms.Sign(content, s.Cert, s.Key, time.Now())
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	return der, nil
}

// Verify returns the content of a SignedData only if it carries exactly one
// valid SHA-256 signature made by a certificate signers trust: the
// library's own Verify proves only that a message agrees with whatever
// certificate it carries.
func Verify(der []byte, signers Signers) ([]byte, error) {
	if signers == nil {
		return nil, fmt.Errorf("verify: %w: no trusted signer", ErrWrongSigner)
	}
	if len(der) > MaxResponseBody {
		return nil, fmt.Errorf("verify: %w: %d bytes, limit %d", ErrBadEnvelope, len(der), MaxResponseBody)
	}
	if err := checkSignedData(der); err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	p7, err := pkcs7.Parse(der)
	if err != nil {
		return nil, fmt.Errorf("verify: %w: %v", ErrBadEnvelope, err)
	}
	signer := p7.GetOnlySigner()
	if signer == nil {
		return nil, fmt.Errorf("verify: %w: signer certificate not in message", ErrWrongSigner)
	}
	if err := signers.Trust(signer); err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	if err := p7.Verify(); err != nil {
		return nil, fmt.Errorf("verify: %w: %v", ErrBadSignature, err)
	}
	return p7.Content, nil
}

// SealKeyGrant encrypts g to the device certificate (RSA-OAEP/SHA-256,
// AES-256-GCM) and signs the envelope, so the device can check who sent it
// before it spends its private key on it.
func SealKeyGrant(g KeyGrant, device *x509.Certificate, s Signer) ([]byte, error) {
	if device == nil {
		return nil, errors.New("seal key grant: no device certificate")
	}
	if len(g.Key) != 32 || g.AssignmentID == "" || g.BlobSHA256 == "" {
		return nil, errors.New("seal key grant: needs an assignment id, a blob sha-256 and a 32-byte key")
	}
	if err := checkEncryptSettings(); err != nil {
		return nil, fmt.Errorf("seal key grant: %w", err)
	}
	plain, err := json.Marshal(g)
	if err != nil {
		return nil, fmt.Errorf("seal key grant: %w", err)
	}
	env, err := pkcs7.Encrypt(plain, []*x509.Certificate{device})
	if err != nil {
		return nil, fmt.Errorf("seal key grant for %s: %w", device.Subject.CommonName, err)
	}
	// Never emit what the device would refuse.
	if err := checkEnvelopedData(env, device); err != nil {
		return nil, fmt.Errorf("seal key grant: %w", err)
	}
	signed, err := Sign(env, s)
	if err != nil {
		return nil, fmt.Errorf("seal key grant: %w", err)
	}
	return signed, nil
}

// OpenKeyGrant verifies the envelope signature against signers, checks the
// envelope's algorithms and recipient, then decrypts it with the device key.
func OpenKeyGrant(env []byte, signers Signers, deviceCert *x509.Certificate, deviceKey crypto.PrivateKey) (KeyGrant, error) {
	var g KeyGrant
	if deviceCert == nil || deviceKey == nil {
		return g, errors.New("open key grant: device certificate or key missing")
	}
	inner, err := Verify(env, signers)
	if err != nil {
		return g, fmt.Errorf("open key grant: %w", err)
	}
	if err := checkEnvelopedData(inner, deviceCert); err != nil {
		return g, fmt.Errorf("open key grant: %w", err)
	}
	p7, err := pkcs7.Parse(inner)
	if err != nil {
		return g, fmt.Errorf("open key grant: %w: %v", ErrBadEnvelope, err)
	}
	plain, err := p7.Decrypt(deviceCert, deviceKey)
	if err != nil {
		return g, fmt.Errorf("open key grant: %w: decrypt: %v", ErrBadEnvelope, err)
	}
	if err := json.Unmarshal(plain, &g); err != nil {
		return KeyGrant{}, fmt.Errorf("open key grant: %w: %v", ErrBadEnvelope, err)
	}
	if len(g.Key) != 32 {
		return KeyGrant{}, fmt.Errorf("open key grant: %w: key is %d bytes, want 32", ErrBadEnvelope, len(g.Key))
	}
	return g, nil
}

// SealScript signs sc and encrypts the signature with a fresh AES-256-GCM
// key. The blob is nonce || ciphertext; the key travels in a key grant. An
// empty sc.SHA256 is filled in; a wrong one is refused.
func SealScript(sc Script, s Signer) (blob []byte, key []byte, err error) {
	if sc.ScriptID == "" {
		return nil, nil, errors.New("seal script: no script id")
	}
	if len(sc.Body) > MaxScriptBytes {
		return nil, nil, fmt.Errorf("seal script %s: body is %d bytes, limit %d", sc.ScriptID, len(sc.Body), MaxScriptBytes)
	}
	want := SHA256Hex(sc.Body)
	if sc.SHA256 == "" {
		sc.SHA256 = want
	}
	if !strings.EqualFold(sc.SHA256, want) {
		return nil, nil, fmt.Errorf("seal script %s: %w: sha256 field %q, body hashes to %s", sc.ScriptID, ErrDigestMismatch, sc.SHA256, want)
	}
	plain, err := json.Marshal(sc)
	if err != nil {
		return nil, nil, fmt.Errorf("seal script %s: %w", sc.ScriptID, err)
	}
	signed, err := Sign(plain, s)
	if err != nil {
		return nil, nil, fmt.Errorf("seal script %s: %w", sc.ScriptID, err)
	}
	key = make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, nil, fmt.Errorf("seal script %s: %w", sc.ScriptID, err)
	}
	aead, err := newGCM(key)
	if err != nil {
		return nil, nil, fmt.Errorf("seal script %s: %w", sc.ScriptID, err)
	}
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(signed)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, nil, fmt.Errorf("seal script %s: %w", sc.ScriptID, err)
	}
	blob = aead.Seal(nonce, nonce, signed, blobAAD)
	if len(blob) > MaxBlobBody {
		return nil, nil, fmt.Errorf("seal script %s: blob is %d bytes, limit %d", sc.ScriptID, len(blob), MaxBlobBody)
	}
	return blob, key, nil
}

// OpenScript decrypts a blob, verifies the inner signature against signers
// and checks that the body hashes to the signed SHA-256.
func OpenScript(blob, key []byte, signers Signers) (Script, error) {
	var sc Script
	if len(key) != 32 {
		return sc, fmt.Errorf("open script: %w: key is %d bytes, want 32", ErrBadEnvelope, len(key))
	}
	if len(blob) > MaxBlobBody {
		return sc, fmt.Errorf("open script: %w: blob is %d bytes, limit %d", ErrBadEnvelope, len(blob), MaxBlobBody)
	}
	aead, err := newGCM(key)
	if err != nil {
		return sc, fmt.Errorf("open script: %w", err)
	}
	if len(blob) < aead.NonceSize()+aead.Overhead() {
		return sc, fmt.Errorf("open script: %w: blob is %d bytes, too short", ErrBadEnvelope, len(blob))
	}
	nonce, ct := blob[:aead.NonceSize()], blob[aead.NonceSize():]
	signed, err := aead.Open(nil, nonce, ct, blobAAD)
	if err != nil {
		return sc, fmt.Errorf("open script: %w: blob does not decrypt: %v", ErrBadEnvelope, err)
	}
	plain, err := Verify(signed, signers)
	if err != nil {
		return sc, fmt.Errorf("open script: %w", err)
	}
	if err := json.Unmarshal(plain, &sc); err != nil {
		return Script{}, fmt.Errorf("open script: %w: %v", ErrBadEnvelope, err)
	}
	if got := SHA256Hex(sc.Body); !strings.EqualFold(sc.SHA256, got) {
		return Script{}, fmt.Errorf("open script %s: %w: body hashes to %s, signed %q", sc.ScriptID, ErrDigestMismatch, got, sc.SHA256)
	}
	return sc, nil
}

// SignCheckin signs a check-in response. A zero ProtocolVersion is set to
// Version; a payload the agent would refuse is refused here already.
func SignCheckin(p CheckinPayload, s Signer) ([]byte, error) {
	if p.ProtocolVersion == 0 {
		p.ProtocolVersion = Version
	}
	switch {
	case p.DeviceID == "":
		return nil, errors.New("sign check-in: no device id")
	case len(p.Nonce) < MinNonceBytes:
		return nil, fmt.Errorf("sign check-in for %s: nonce is %d bytes, need %d", p.DeviceID, len(p.Nonce), MinNonceBytes)
	case !p.ExpiresAt.After(p.IssuedAt):
		return nil, fmt.Errorf("sign check-in for %s: expires_at is not after issued_at", p.DeviceID)
	}
	plain, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("sign check-in for %s: %w", p.DeviceID, err)
	}
	der, err := Sign(plain, s)
	if err != nil {
		return nil, fmt.Errorf("sign check-in for %s: %w", p.DeviceID, err)
	}
	return der, nil
}

// OpenCheckin verifies a check-in response and binds it to this device,
// this request's nonce and the current time, so that a response captured
// for another device or an earlier check-in is refused.
func OpenCheckin(der []byte, signers Signers, deviceID string, nonce []byte, now time.Time) (CheckinPayload, error) {
	var p CheckinPayload
	if len(nonce) < MinNonceBytes {
		return p, fmt.Errorf("open check-in: %w: request nonce is %d bytes, need %d", ErrNonceMismatch, len(nonce), MinNonceBytes)
	}
	plain, err := Verify(der, signers)
	if err != nil {
		return p, fmt.Errorf("open check-in: %w", err)
	}
	if err := json.Unmarshal(plain, &p); err != nil {
		return CheckinPayload{}, fmt.Errorf("open check-in: %w: %v", ErrBadEnvelope, err)
	}
	switch {
	case p.ProtocolVersion != Version:
		return CheckinPayload{}, fmt.Errorf("open check-in: %w: %d, this agent speaks %d", ErrVersion, p.ProtocolVersion, Version)
	case p.DeviceID != deviceID:
		return CheckinPayload{}, fmt.Errorf("open check-in: %w: response for %q", ErrWrongDevice, p.DeviceID)
	case subtle.ConstantTimeCompare(p.Nonce, nonce) != 1:
		return CheckinPayload{}, fmt.Errorf("open check-in: %w", ErrNonceMismatch)
	case now.Before(p.IssuedAt.Add(-ClockSkew)):
		return CheckinPayload{}, fmt.Errorf("open check-in: %w: issued at %s, device time %s", ErrExpired,
			p.IssuedAt.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	case now.After(p.ExpiresAt):
		return CheckinPayload{}, fmt.Errorf("open check-in: %w: expired at %s, device time %s", ErrExpired,
			p.ExpiresAt.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	if err := CheckFingerprints(p.RetiredSigners); err != nil {
		return CheckinPayload{}, fmt.Errorf("open check-in: %w: %v", ErrBadEnvelope, err)
	}
	return p, nil
}

// OpenAssignment runs the whole chain the agent applies before it runs
// anything: envelope signature and signer, envelope decryption, grant bound
// to this assignment and blob, blob digest, blob decryption, inner
// signature, and script id. Nothing is returned unless every step passes.
func OpenAssignment(a Assignment, blob []byte, signers Signers, deviceCert *x509.Certificate, deviceKey crypto.PrivateKey) (Script, error) {
	g, err := OpenKeyGrant(a.KeyEnvelope, signers, deviceCert, deviceKey)
	if err != nil {
		return Script{}, fmt.Errorf("assignment %s: %w", a.ID, err)
	}
	if g.AssignmentID != a.ID {
		return Script{}, fmt.Errorf("assignment %s: %w: key grant is for %q", a.ID, ErrWrongAssignment, g.AssignmentID)
	}
	if !strings.EqualFold(g.BlobSHA256, a.BlobSHA256) {
		return Script{}, fmt.Errorf("assignment %s: %w: key grant is for blob %s, assignment names %s", a.ID, ErrDigestMismatch, g.BlobSHA256, a.BlobSHA256)
	}
	if got := SHA256Hex(blob); !strings.EqualFold(got, a.BlobSHA256) {
		return Script{}, fmt.Errorf("assignment %s: %w: downloaded blob hashes to %s, want %s", a.ID, ErrDigestMismatch, got, a.BlobSHA256)
	}
	sc, err := OpenScript(blob, g.Key, signers)
	if err != nil {
		return Script{}, fmt.Errorf("assignment %s: %w", a.ID, err)
	}
	if sc.ScriptID != a.ScriptID {
		return Script{}, fmt.Errorf("assignment %s: %w: blob holds script %q, assignment names %q", a.ID, ErrWrongAssignment, sc.ScriptID, a.ScriptID)
	}
	return sc, nil
}

// SHA256Hex returns the lower-case hex SHA-256 of b, the form used on the wire.
func SHA256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
