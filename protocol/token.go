package protocol

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// tokenPrefix versions the token text so a later format can coexist.
const tokenPrefix = "MAW1"

// ErrBadToken is wrapped by every token parse error.
var ErrBadToken = errors.New("malformed enrollment token")

// EnrollToken is what an administrator hands to a device: a one-time secret
// and the SHA-256 pin of the tenant CA, so the agent trusts nothing on first
// use and can check the server's chain before it sends the secret.
type EnrollToken struct {
	Secret []byte   // 32 random bytes
	CAPin  [32]byte // sha256 of the tenant CA certificate (DER)
}

// NewEnrollToken makes a token with a fresh secret for the CA pin.
func NewEnrollToken(caPin [32]byte) (EnrollToken, error) {
	t := EnrollToken{Secret: make([]byte, 32), CAPin: caPin}
	if _, err := rand.Read(t.Secret); err != nil {
		return EnrollToken{}, fmt.Errorf("make token secret: %w", err)
	}
	return t, nil
}

// String renders the token as MAW1.<secret>.<pin>, base64url without padding.
func (t EnrollToken) String() string {
	enc := base64.RawURLEncoding
	return tokenPrefix + "." + enc.EncodeToString(t.Secret) + "." + enc.EncodeToString(t.CAPin[:])
}

// SecretHash is what the server stores instead of the secret.
func (t EnrollToken) SecretHash() []byte {
	h := sha256.Sum256(t.Secret)
	return h[:]
}

// ParseEnrollToken reads a token made by String.
func ParseEnrollToken(s string) (EnrollToken, error) {
	parts := strings.Split(strings.TrimSpace(s), ".")
	if len(parts) != 3 || parts[0] != tokenPrefix {
		return EnrollToken{}, fmt.Errorf("%w: want %s.<secret>.<pin>", ErrBadToken, tokenPrefix)
	}
	enc := base64.RawURLEncoding
	secret, err := enc.DecodeString(parts[1])
	if err != nil || len(secret) != 32 {
		return EnrollToken{}, fmt.Errorf("%w: bad secret", ErrBadToken)
	}
	pin, err := enc.DecodeString(parts[2])
	if err != nil || len(pin) != 32 {
		return EnrollToken{}, fmt.Errorf("%w: bad CA pin", ErrBadToken)
	}
	t := EnrollToken{Secret: secret}
	copy(t.CAPin[:], pin)
	if bytes.Equal(t.CAPin[:], make([]byte, 32)) {
		return EnrollToken{}, fmt.Errorf("%w: empty CA pin", ErrBadToken)
	}
	return t, nil
}
