package accounts

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
)

// Prefixes of the secrets handed out, so that a leaked one is recognised
// (by a person, or a secret scanner) for what it is.
const (
	TokenPrefix   = "mawat_" // API tokens
	SessionPrefix = "mawss_" // console sessions
	CSRFPrefix    = "mawcs_" // a session's CSRF token
)

// NewSecret returns prefix and 32 random bytes in base64url, and the hash
// the store keeps instead. High-entropy secrets need no slow KDF: SHA-256
// cannot be searched back to 256 random bits.
func NewSecret(prefix string) (secret string, hash []byte) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	secret = prefix + base64.RawURLEncoding.EncodeToString(b)
	return secret, HashSecret(secret)
}

// HashSecret is the hash a secret is looked up by.
func HashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}
