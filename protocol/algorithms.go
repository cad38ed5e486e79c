package protocol

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"

	"github.com/smallstep/pkcs7"
)

// The pkcs7 library keeps its encryption choices in package variables whose
// defaults (DES-CBC content, RSA PKCS#1 v1.5 key transport) are unfit for a
// new protocol. This package is the only user of pkcs7 in the product, so it
// sets them once here; SealKeyGrant re-checks them before every use and
// checks its own output, so a change elsewhere fails loudly instead of
// silently producing weak envelopes.
func init() {
	pkcs7.ContentEncryptionAlgorithm = pkcs7.EncryptionAlgorithmAES256GCM
	pkcs7.KeyEncryptionAlgorithm = pkcs7.OIDEncryptionAlgorithmRSAESOAEP
	pkcs7.KeyEncryptionHash = crypto.SHA256
}

// The only algorithms the protocol produces or accepts. pkcs7.Decrypt and
// pkcs7.Verify accept whatever a message names, down to DES and SHA-1, so
// every message is checked against these before it reaches the library.
var (
	oidData         = pkcs7.OIDData
	oidSignedData   = pkcs7.OIDSignedData
	oidEnveloped    = pkcs7.OIDEnvelopedData
	oidSHA256       = pkcs7.OIDDigestAlgorithmSHA256
	oidRSAOAEP      = pkcs7.OIDEncryptionAlgorithmRSAESOAEP
	oidMGF1         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 8}
	oidAES256GCM    = pkcs7.OIDEncryptionAlgorithmAES256GCM
	signatureAlgIDs = []asn1.ObjectIdentifier{
		pkcs7.OIDEncryptionAlgorithmRSA,       // rsaEncryption, with the SHA-256 digest above
		pkcs7.OIDEncryptionAlgorithmRSASHA256, // sha256WithRSAEncryption
		pkcs7.OIDDigestAlgorithmECDSASHA256,   // ecdsa-with-SHA256
	}
)

// gcmNonceSize and gcmTagSize are the only GCM parameters accepted, in the
// envelope and in blobs alike.
const (
	gcmNonceSize = 12
	gcmTagSize   = 16
)

// ASN.1 shapes of CMS (RFC 5652), reduced to what the checks read. They are
// parsed with encoding/asn1, which accepts DER only: BER tricks such as
// indefinite lengths are refused before the library's lenient parser runs.
type contentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue `asn1:"explicit,tag:0"`
}

type signedData struct {
	Version          int
	DigestAlgorithms []pkix.AlgorithmIdentifier `asn1:"set"`
	EncapContent     encapContentInfo
	Certificates     asn1.RawValue   `asn1:"optional,tag:0"`
	CRLs             asn1.RawValue   `asn1:"optional,tag:1"`
	SignerInfos      []asn1.RawValue `asn1:"set"`
}

type encapContentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue `asn1:"optional,explicit,tag:0"`
}

type signerInfo struct {
	Version            int
	IssuerAndSerial    asn1.RawValue
	DigestAlgorithm    pkix.AlgorithmIdentifier
	SignedAttrs        asn1.RawValue `asn1:"optional,tag:0"`
	SignatureAlgorithm pkix.AlgorithmIdentifier
	Signature          []byte
}

type envelopedData struct {
	Version        int
	RecipientInfos []asn1.RawValue `asn1:"set"`
	EncryptedInfo  encryptedContentInfo
}

type keyTransRecipientInfo struct {
	Version                int
	Recipient              issuerAndSerial
	KeyEncryptionAlgorithm pkix.AlgorithmIdentifier
	EncryptedKey           []byte
}

type issuerAndSerial struct {
	Issuer asn1.RawValue
	Serial *big.Int
}

type encryptedContentInfo struct {
	ContentType      asn1.ObjectIdentifier
	Algorithm        pkix.AlgorithmIdentifier
	EncryptedContent asn1.RawValue `asn1:"optional,tag:0"`
}

// rsaOAEPParams is RSAES-OAEP-params (RFC 4055). An absent hash means SHA-1,
// which is refused.
type rsaOAEPParams struct {
	Hash    pkix.AlgorithmIdentifier `asn1:"optional,explicit,tag:0"`
	MGF     pkix.AlgorithmIdentifier `asn1:"optional,explicit,tag:1"`
	PSource pkix.AlgorithmIdentifier `asn1:"optional,explicit,tag:2"`
}

// gcmParams mirrors what the pkcs7 library writes and reads for AES-GCM: the
// nonce as a [4] tagged string inside a SEQUENCE that is itself the content
// of the parameters field. It is not RFC 5084 on the wire, but both ends of
// this protocol use the same library; what matters here is that the values
// the library will use are the ones checked.
type gcmParams struct {
	Nonce  []byte `asn1:"tag:4"`
	ICVLen int
}

// unmarshalExact decodes DER into v and refuses trailing bytes.
func unmarshalExact(der []byte, v any) error {
	rest, err := asn1.Unmarshal(der, v)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return fmt.Errorf("%d trailing bytes", len(rest))
	}
	return nil
}

// checkSignedData refuses a SignedData that the protocol never produces:
// not DER, a content type other than data, not exactly one signer, or any
// digest or signature algorithm but SHA-256 based ones.
func checkSignedData(der []byte) error {
	var ci contentInfo
	if err := unmarshalExact(der, &ci); err != nil {
		return fmt.Errorf("%w: not a DER content info: %v", ErrBadEnvelope, err)
	}
	if !ci.ContentType.Equal(oidSignedData) {
		return fmt.Errorf("%w: content type %s, want signed data", ErrBadEnvelope, ci.ContentType)
	}
	var sd signedData
	if err := unmarshalExact(ci.Content.Bytes, &sd); err != nil {
		return fmt.Errorf("%w: malformed signed data: %v", ErrBadEnvelope, err)
	}
	if !sd.EncapContent.ContentType.Equal(oidData) || len(sd.EncapContent.Content.Bytes) == 0 {
		return fmt.Errorf("%w: signed data does not carry data content", ErrBadEnvelope)
	}
	if n := len(sd.SignerInfos); n != 1 {
		return fmt.Errorf("%w: %d signers, want exactly one", ErrWrongSigner, n)
	}
	for _, d := range sd.DigestAlgorithms {
		if !d.Algorithm.Equal(oidSHA256) {
			return fmt.Errorf("%w: digest algorithm %s, want SHA-256", ErrAlgorithm, d.Algorithm)
		}
	}
	var si signerInfo
	if err := unmarshalExact(sd.SignerInfos[0].FullBytes, &si); err != nil {
		return fmt.Errorf("%w: malformed signer info: %v", ErrBadEnvelope, err)
	}
	if !si.DigestAlgorithm.Algorithm.Equal(oidSHA256) {
		return fmt.Errorf("%w: signer digest algorithm %s, want SHA-256", ErrAlgorithm, si.DigestAlgorithm.Algorithm)
	}
	if !oidIn(si.SignatureAlgorithm.Algorithm, signatureAlgIDs) {
		return fmt.Errorf("%w: signature algorithm %s not accepted", ErrAlgorithm, si.SignatureAlgorithm.Algorithm)
	}
	// Without signed attributes the content type would not be bound by
	// the signature; every signature the protocol makes has them.
	if len(si.SignedAttrs.Bytes) == 0 {
		return fmt.Errorf("%w: signer has no signed attributes", ErrBadSignature)
	}
	return nil
}

// checkEnvelopedData refuses an EnvelopedData that is not addressed to
// device or that names any algorithm but RSA-OAEP/SHA-256 key transport and
// AES-256-GCM content encryption. It runs before the library sees the
// envelope, because pkcs7.Decrypt would honour DES or PKCS#1 v1.5.
func checkEnvelopedData(der []byte, device *x509.Certificate) error {
	var ci contentInfo
	if err := unmarshalExact(der, &ci); err != nil {
		return fmt.Errorf("%w: not a DER content info: %v", ErrBadEnvelope, err)
	}
	if !ci.ContentType.Equal(oidEnveloped) {
		return fmt.Errorf("%w: content type %s, want enveloped data", ErrBadEnvelope, ci.ContentType)
	}
	var ed envelopedData
	if err := unmarshalExact(ci.Content.Bytes, &ed); err != nil {
		return fmt.Errorf("%w: malformed enveloped data: %v", ErrBadEnvelope, err)
	}
	if len(ed.RecipientInfos) == 0 {
		return fmt.Errorf("%w: no recipients", ErrBadEnvelope)
	}
	forDevice := false
	for _, raw := range ed.RecipientInfos {
		var ri keyTransRecipientInfo
		if err := unmarshalExact(raw.FullBytes, &ri); err != nil {
			// Key agreement, KEK and password recipients have other shapes.
			return fmt.Errorf("%w: recipient is not RSA key transport: %v", ErrAlgorithm, err)
		}
		if err := checkKeyTransport(ri.KeyEncryptionAlgorithm); err != nil {
			return err
		}
		if ri.Recipient.Serial != nil && ri.Recipient.Serial.Cmp(device.SerialNumber) == 0 &&
			bytes.Equal(ri.Recipient.Issuer.FullBytes, device.RawIssuer) {
			forDevice = true
		}
	}
	if err := checkContentEncryption(ed.EncryptedInfo); err != nil {
		return err
	}
	if !forDevice {
		return fmt.Errorf("%w: envelope is not addressed to certificate %x", ErrWrongDevice, device.SerialNumber)
	}
	return nil
}

func checkKeyTransport(alg pkix.AlgorithmIdentifier) error {
	if !alg.Algorithm.Equal(oidRSAOAEP) {
		return fmt.Errorf("%w: key transport %s, want RSA-OAEP", ErrAlgorithm, alg.Algorithm)
	}
	var p rsaOAEPParams
	if err := unmarshalExact(alg.Parameters.FullBytes, &p); err != nil {
		return fmt.Errorf("%w: malformed RSA-OAEP parameters: %v", ErrAlgorithm, err)
	}
	if !p.Hash.Algorithm.Equal(oidSHA256) {
		return fmt.Errorf("%w: RSA-OAEP hash %s, want SHA-256", ErrAlgorithm, p.Hash.Algorithm)
	}
	// The library never writes the mask generation function and Go's OAEP
	// then uses MGF1 with the OAEP hash; an explicit value must say so.
	if len(p.MGF.Algorithm) != 0 {
		var h pkix.AlgorithmIdentifier
		if !p.MGF.Algorithm.Equal(oidMGF1) || unmarshalExact(p.MGF.Parameters.FullBytes, &h) != nil || !h.Algorithm.Equal(oidSHA256) {
			return fmt.Errorf("%w: RSA-OAEP mask generation must be MGF1 with SHA-256", ErrAlgorithm)
		}
	}
	if len(p.PSource.Algorithm) != 0 {
		return fmt.Errorf("%w: RSA-OAEP label not supported", ErrAlgorithm)
	}
	return nil
}

func checkContentEncryption(eci encryptedContentInfo) error {
	if !eci.Algorithm.Algorithm.Equal(oidAES256GCM) {
		return fmt.Errorf("%w: content encryption %s, want AES-256-GCM", ErrAlgorithm, eci.Algorithm.Algorithm)
	}
	var p gcmParams
	if err := unmarshalExact(eci.Algorithm.Parameters.Bytes, &p); err != nil {
		return fmt.Errorf("%w: malformed AES-GCM parameters: %v", ErrAlgorithm, err)
	}
	if len(p.Nonce) != gcmNonceSize || p.ICVLen != gcmTagSize {
		return fmt.Errorf("%w: AES-GCM nonce %d bytes and tag %d bytes, want %d and %d",
			ErrAlgorithm, len(p.Nonce), p.ICVLen, gcmNonceSize, gcmTagSize)
	}
	if len(eci.EncryptedContent.Bytes) < gcmTagSize {
		return fmt.Errorf("%w: encrypted content too short", ErrBadEnvelope)
	}
	return nil
}

// checkEncryptSettings makes sure the library variables still hold what
// init set, so a stray change cannot make SealKeyGrant emit weak envelopes.
func checkEncryptSettings() error {
	if pkcs7.ContentEncryptionAlgorithm != pkcs7.EncryptionAlgorithmAES256GCM ||
		!pkcs7.KeyEncryptionAlgorithm.Equal(oidRSAOAEP) || pkcs7.KeyEncryptionHash != crypto.SHA256 {
		return fmt.Errorf("%w: pkcs7 encryption settings were changed from AES-256-GCM and RSA-OAEP/SHA-256", ErrAlgorithm)
	}
	return nil
}

func oidIn(oid asn1.ObjectIdentifier, set []asn1.ObjectIdentifier) bool {
	for _, o := range set {
		if oid.Equal(o) {
			return true
		}
	}
	return false
}
