package protocol

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
)

// CapRetiredSigners is announced by agents that keep the fingerprints of
// retired signing certificates a check-in answer lists (RetiredSigners) and
// refuse whatever those sign. The server lists them only to such agents, so
// the content digest of what older agents hold does not change.
const CapRetiredSigners = "retired_signers"

// MaxRetiredSigners bounds the list: one entry per rotation, which is
// rare, so a longer list is a malformed answer.
const MaxRetiredSigners = 256

// ErrRetiredSigner is a signer the tenant retired: trusted by its chain,
// refused by its fingerprint.
var ErrRetiredSigner = errors.New("signing certificate was retired by the tenant")

// Fingerprint is the SHA-256 (lowercase hex) of a certificate's DER: what
// RetiredSigners lists.
func Fingerprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return hex.EncodeToString(sum[:])
}

// CheckFingerprints refuses a RetiredSigners list an agent must not keep:
// too long, or an entry that is not a lowercase hex SHA-256.
func CheckFingerprints(fps []string) error {
	if len(fps) > MaxRetiredSigners {
		return fmt.Errorf("retired signers: %d listed, at most %d", len(fps), MaxRetiredSigners)
	}
	for _, fp := range fps {
		if !isFingerprint(fp) {
			return fmt.Errorf("retired signers: %q is not a SHA-256 fingerprint", fp)
		}
	}
	return nil
}

func isFingerprint(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	for _, r := range s {
		if (r < '0' || r > '9') && (r < 'a' || r > 'f') {
			return false
		}
	}
	return true
}
