package cms

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/smallstep/pkcs7"
)

// signer is a self-signed certificate and its key.
func signer(t testing.TB, key crypto.Signer, serial *big.Int) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: "Tenant signing", Organization: []string{"Example"}},
		NotBefore: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2060, 1, 1, 0, 0, 0, 0, time.UTC), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func keys(t testing.TB) map[string]crypto.Signer {
	t.Helper()
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]crypto.Signer{"ecdsa": ec, "rsa": rk}
}

// librarySign is what protocol.Sign did through the library.
func librarySign(t *testing.T, content []byte, cert *x509.Certificate, key crypto.Signer) []byte {
	t.Helper()
	sd, err := pkcs7.NewSignedData(content)
	if err != nil {
		t.Fatal(err)
	}
	sd.SetDigestAlgorithm(pkcs7.OIDDigestAlgorithmSHA256)
	if err := sd.AddSigner(cert, key, pkcs7.SignerInfoConfig{}); err != nil {
		t.Fatal(err)
	}
	der, err := sd.Finish()
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// The encoding is the library's, byte for byte: given the library's
// signing time and signature, build gives back the library's DER, for both
// key kinds, contents whose lengths take every length form, and serial
// numbers that need a leading zero or none.
func TestSameBytesAsTheLibrary(t *testing.T) {
	serials := map[string]*big.Int{"small": big.NewInt(7), "high bit": new(big.Int).Lsh(big.NewInt(0xff), 120)}
	for name, key := range keys(t) {
		for sname, serial := range serials {
			cert := signer(t, key, serial)
			for _, size := range []int{1, 127, 128, 255, 256, 70_000} {
				content := bytes.Repeat([]byte{'a'}, size)
				want := librarySign(t, content, cert, key)
				p7, err := pkcs7.Parse(want)
				if err != nil {
					t.Fatal(err)
				}
				var at time.Time
				if err := p7.UnmarshalSignedAttribute(pkcs7.OIDAttributeSigningTime, &at); err != nil {
					t.Fatal(err)
				}
				sig := p7.Signers[0].EncryptedDigest
				var sigAlg asn1.ObjectIdentifier = oidECDSASHA256
				if name == "rsa" {
					sigAlg = oidRSASHA256
				}
				got, err := build(content, cert, sigAlg, at, func([]byte) ([]byte, error) { return sig, nil })
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					i := 0
					for i < min(len(got), len(want)) && got[i] == want[i] {
						i++
					}
					t.Errorf("%s key, %s serial, %d bytes: encoding differs from the library's at byte %d of %d/%d\n got %x\nwant %x",
						name, sname, size, i, len(got), len(want), got[max(0, i-40):min(len(got), i+40)], want[max(0, i-40):min(len(want), i+40)])
				}
			}
		}
	}
}

// What Sign makes verifies with the library, carries the content and the
// signing time given, and a changed byte fails verification.
func TestSignVerifies(t *testing.T) {
	for name, key := range keys(t) {
		cert := signer(t, key, big.NewInt(42))
		for _, at := range []time.Time{time.Date(2026, 12, 2, 14, 0, 5, 0, time.UTC), time.Date(2051, 1, 1, 0, 0, 0, 0, time.UTC)} {
			content := []byte(`{"nonce":"abc"}`)
			der, err := Sign(content, cert, key, at)
			if err != nil {
				t.Fatal(err)
			}
			p7, err := pkcs7.Parse(der)
			if err != nil {
				t.Fatalf("%s: parse: %v", name, err)
			}
			if err := p7.Verify(); err != nil {
				t.Fatalf("%s at %v: verify: %v", name, at, err)
			}
			if !bytes.Equal(p7.Content, content) {
				t.Errorf("%s: content %q", name, p7.Content)
			}
			var got time.Time
			if err := p7.UnmarshalSignedAttribute(pkcs7.OIDAttributeSigningTime, &got); err != nil || !got.Equal(at) {
				t.Errorf("%s: signing time %v (%v), want %v", name, got, err, at)
			}
			bad := bytes.Clone(der)
			i := bytes.Index(bad, content)
			bad[i+2] ^= 1
			if p7, err := pkcs7.Parse(bad); err == nil && p7.Verify() == nil {
				t.Errorf("%s: a changed content byte still verifies", name)
			}
		}
	}
}

// Another implementation agrees: OpenSSL verifies what Sign makes against
// the signer certificate.
func TestOpenSSLVerifies(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl is not installed")
	}
	dir := t.TempDir()
	for name, key := range keys(t) {
		cert := signer(t, key, big.NewInt(9))
		content := []byte("payload of " + name)
		der, err := Sign(content, cert, key, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		in, ca, out := filepath.Join(dir, name+".p7"), filepath.Join(dir, name+".pem"), filepath.Join(dir, name+".out")
		if err := os.WriteFile(in, der, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(openssl, "cms", "-verify", "-binary", "-inform", "DER", "-in", in, "-CAfile", ca, "-purpose", "any", "-out", out)
		if msg, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: openssl cms -verify: %v\n%s", name, err, msg)
		}
		if got, err := os.ReadFile(out); err != nil || !bytes.Equal(got, content) {
			t.Errorf("%s: openssl gave %q (%v), want %q", name, got, err, content)
		}
	}
}

// A key that can be neither is refused before anything is encoded.
func TestSignRefusesOtherKeys(t *testing.T) {
	key := keys(t)["ecdsa"]
	cert := signer(t, key, big.NewInt(1))
	if _, err := Sign([]byte("x"), cert, otherKey{key}, time.Now()); err == nil {
		t.Fatal("an unknown key kind signed")
	}
	if _, err := Sign([]byte("x"), nil, key, time.Now()); err == nil {
		t.Fatal("signed without a certificate")
	}
}

type otherKey struct{ crypto.Signer }

func (otherKey) Public() crypto.PublicKey { return struct{}{} }

func BenchmarkSign(b *testing.B) {
	key := keys(b)["ecdsa"]
	cert := signer(b, key, big.NewInt(3))
	content := bytes.Repeat([]byte{'x'}, 900)
	b.Run("library", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sd, _ := pkcs7.NewSignedData(content)
			sd.SetDigestAlgorithm(pkcs7.OIDDigestAlgorithmSHA256)
			if err := sd.AddSigner(cert, key, pkcs7.SignerInfoConfig{}); err != nil {
				b.Fatal(err)
			}
			if _, err := sd.Finish(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cms", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Sign(content, cert, key, time.Now()); err != nil {
				b.Fatal(err)
			}
		}
	})
}
