// Package cms encodes the CMS SignedData (RFC 5652) the tenant signs every
// answer, envelope and blob with: SHA-256, the three signed attributes
// (content type, message digest, signing time) and the signer's
// certificate, the structure github.com/smallstep/pkcs7 builds and that
// agents parse with it. It is written with cryptobyte rather than through
// that library because the library encodes by reflection: a third of the
// cost of signing a check-in answer, which every check-in pays. The
// signature itself is the key's (crypto.Signer); nothing here is a
// cryptographic primitive, and the tests check the encoding byte for byte
// against the library's.
package cms

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"slices"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Object identifiers (RFC 5652, RFC 5754, RFC 5758, RFC 4055).
var (
	oidData          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidSignedData    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidContentType   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	oidMessageDigest = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	oidSigningTime   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 5}
	oidSHA256        = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidECDSASHA256   = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidRSASHA256     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
)

// Sign returns the DER SignedData of content signed by key, whose
// certificate is cert, at signing time at. The key is ECDSA or RSA
// (PKCS #1 v1.5), as the agents' verification accepts.
func Sign(content []byte, cert *x509.Certificate, key crypto.Signer, at time.Time) ([]byte, error) {
	var sigAlg asn1.ObjectIdentifier
	switch key.Public().(type) {
	case *ecdsa.PublicKey:
		sigAlg = oidECDSASHA256
	case *rsa.PublicKey:
		sigAlg = oidRSASHA256
	default:
		return nil, fmt.Errorf("cms: %T keys cannot sign", key.Public())
	}
	return build(content, cert, sigAlg, at, func(digest []byte) ([]byte, error) {
		return key.Sign(rand.Reader, digest, crypto.SHA256)
	})
}

// build encodes the SignedData; sign signs the SHA-256 digest of the
// signed attributes.
func build(content []byte, cert *x509.Certificate, sigAlg asn1.ObjectIdentifier, at time.Time, sign func(digest []byte) ([]byte, error)) ([]byte, error) {
	if cert == nil || cert.SerialNumber == nil {
		return nil, errors.New("cms: no signer certificate")
	}
	sum := sha256.Sum256(content)
	attrs, err := signedAttributes(sum[:], at)
	if err != nil {
		return nil, err
	}
	// The signature covers the attributes' DER as a SET OF (RFC 5652
	// 5.4); the SignerInfo carries the same bytes under [0] IMPLICIT.
	signed := cryptobyte.NewBuilder(nil)
	signed.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
		for _, a := range attrs {
			b.AddBytes(a)
		}
	})
	toSign, err := signed.Bytes()
	if err != nil {
		return nil, fmt.Errorf("cms: encode signed attributes: %w", err)
	}
	digest := sha256.Sum256(toSign)
	sig, err := sign(digest[:])
	if err != nil {
		return nil, fmt.Errorf("cms: sign: %w", err)
	}

	b := cryptobyte.NewBuilder(make([]byte, 0, len(content)+len(cert.Raw)+512))
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // ContentInfo
		b.AddASN1ObjectIdentifier(oidSignedData)
		b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // SignedData
				b.AddASN1Int64(1)
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) { algorithm(b, oidSHA256) })
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // EncapsulatedContentInfo
					b.AddASN1ObjectIdentifier(oidData)
					b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
						b.AddASN1OctetString(content)
					})
				})
				b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) { // certificates
					b.AddBytes(cert.Raw)
				})
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) { // signerInfos
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1Int64(1)
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // IssuerAndSerialNumber
							b.AddBytes(cert.RawIssuer)
							b.AddASN1BigInt(cert.SerialNumber)
						})
						algorithm(b, oidSHA256)
						b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
							for _, a := range attrs {
								b.AddBytes(a)
							}
						})
						algorithm(b, sigAlg)
						b.AddASN1OctetString(sig)
					})
				})
			})
		})
	})
	der, err := b.Bytes()
	if err != nil {
		return nil, fmt.Errorf("cms: encode: %w", err)
	}
	return der, nil
}

// signedAttributes are the DER of each signed attribute, in the order DER
// gives a SET OF: by their encodings.
func signedAttributes(digest []byte, at time.Time) ([][]byte, error) {
	at = at.UTC()
	values := []struct {
		oid   asn1.ObjectIdentifier
		value func(*cryptobyte.Builder)
	}{
		{oidContentType, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oidData) }},
		{oidMessageDigest, func(b *cryptobyte.Builder) { b.AddASN1OctetString(digest) }},
		{oidSigningTime, func(b *cryptobyte.Builder) {
			// RFC 5652 11.3: UTCTime from 1950 through 2049.
			if y := at.Year(); y >= 1950 && y < 2050 {
				b.AddASN1UTCTime(at)
			} else {
				b.AddASN1GeneralizedTime(at)
			}
		}},
	}
	out := make([][]byte, 0, len(values))
	for _, v := range values {
		b := cryptobyte.NewBuilder(nil)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(v.oid)
			b.AddASN1(cbasn1.SET, v.value)
		})
		a, err := b.Bytes()
		if err != nil {
			return nil, fmt.Errorf("cms: encode signed attribute %v: %w", v.oid, err)
		}
		out = append(out, a)
	}
	slices.SortFunc(out, bytes.Compare)
	return out, nil
}

// algorithm adds an AlgorithmIdentifier without parameters.
func algorithm(b *cryptobyte.Builder, oid asn1.ObjectIdentifier) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oid) })
}
