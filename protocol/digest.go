package protocol

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
)

// ErrNotHeld refuses an "unchanged" answer about content the agent does not
// hold: it cannot stand in for a configuration the agent never verified.
var ErrNotHeld = errors.New("unchanged answer for content the agent does not hold")

// payloadContent is what ContentDigest covers: everything a check-in
// payload tells the device to do. The envelope fields (device, nonce,
// validity window) change at every check-in and Resend says how it was
// sent, not what: all of them stay out, or no answer would ever be
// "unchanged".
type payloadContent struct {
	Configuration *ConfigurationRef `json:"configuration"`
	Config        Config            `json:"config"`
	Assignments   []Assignment      `json:"assignments"`
	Apps          []AppOffer        `json:"apps"`
	Onboarding    *OnboardingPlan   `json:"onboarding"`
	More          bool              `json:"more"`
	// Cancel is left out when empty, so the digest of a payload without
	// one is what agents that know no cancel orders compute.
	Cancel []RunRef `json:"cancel,omitempty"`
	// RetiredSigners, left out when empty likewise: a retirement changes
	// the digest, so the agent gets a full answer that lists it rather
	// than "unchanged".
	RetiredSigners []string `json:"retired_signers,omitempty"`
}

// digestDomain keeps the digest apart from any other SHA-256 over JSON.
const digestDomain = "mobileatwork payload content v1\n"

// ContentDigest is the SHA-256 (hex) of the content of p: the canonical
// JSON (fields in declaration order, map keys sorted) of its configuration,
// settings, assignments with their key envelopes, apps, onboarding plan,
// More, the cancel orders and the retired signers, prefixed by a domain string. A payload
// decoded from JSON hashes as the one that was encoded, so the agent and
// the server agree on it.
func ContentDigest(p CheckinPayload) string {
	b, err := json.Marshal(payloadContent{
		Configuration: p.Configuration, Config: p.Config, Assignments: p.Assignments,
		Apps: p.Apps, Onboarding: p.Onboarding, More: p.More, Cancel: p.Cancel,
		RetiredSigners: p.RetiredSigners,
	})
	if err != nil {
		// Only unsupported values fail to encode, and the payload has none.
		panic(fmt.Sprintf("encode payload content: %v", err))
	}
	h := sha256.New()
	h.Write([]byte(digestDomain))
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

// Unchanged is the answer that tells the agent of p the content it holds,
// whose digest is digest, is still current: the fields that bind it to
// the request and no content.
func Unchanged(p CheckinPayload, digest string) CheckinPayload {
	return CheckinPayload{
		ProtocolVersion: p.ProtocolVersion, DeviceID: p.DeviceID, Nonce: p.Nonce,
		IssuedAt: p.IssuedAt, ExpiresAt: p.ExpiresAt, Unchanged: true, Digest: digest,
	}
}

// Resolve turns a verified answer into the payload the agent acts on: a
// full answer as it is; an "unchanged" one as held, the content the agent
// saved, under the answer's envelope. An "unchanged" answer that names other
// content than held (or comes when nothing is held) is refused.
func Resolve(answer CheckinPayload, held *CheckinPayload) (CheckinPayload, error) {
	digest := ""
	if held != nil && answer.Unchanged {
		digest = ContentDigest(*held)
	}
	return ResolveHeld(answer, held, digest)
}

// ResolveHeld is Resolve for a caller that computed the held content's
// digest already, for its request's payload_digest: heldDigest is
// ContentDigest(*held), which costs an encoding of the whole payload.
func ResolveHeld(answer CheckinPayload, held *CheckinPayload, heldDigest string) (CheckinPayload, error) {
	if !answer.Unchanged {
		return answer, nil
	}
	if held == nil || answer.Digest == "" || heldDigest != answer.Digest {
		return CheckinPayload{}, fmt.Errorf("open check-in: %w", ErrNotHeld)
	}
	p := *held
	p.ProtocolVersion, p.DeviceID, p.Nonce = answer.ProtocolVersion, answer.DeviceID, answer.Nonce
	p.IssuedAt, p.ExpiresAt = answer.IssuedAt, answer.ExpiresAt
	p.Resend, p.Unchanged, p.Digest = false, true, ""
	return p, nil
}
