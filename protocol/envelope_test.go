package protocol

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smallstep/pkcs7"
)

// fixture is one tenant with two enrolled devices, plus a second tenant
// whose signer must never be accepted by the first tenant's devices.
type fixture struct {
	ca, otherCA   *testCA
	signer, other Signer
	devA, devB    *x509.Certificate
	keyA, keyB    *rsa.PrivateKey
}

var (
	fixtureOnce sync.Once
	shared      *fixture
)

func newFixture(t testing.TB) *fixture {
	t.Helper()
	fixtureOnce.Do(func() {
		f := &fixture{ca: newTestCA(t, "Acme"), otherCA: newTestCA(t, "Globex")}
		f.signer = f.ca.signer(t, "Acme signing")
		f.other = f.otherCA.signer(t, "Globex signing")
		f.devA, f.keyA = f.ca.device(t, "device-a", 0)
		f.devB, f.keyB = f.ca.device(t, "device-b", 1)
		shared = f
	})
	if shared == nil {
		t.Fatal("fixture setup failed")
	}
	return shared
}

func wantErr(t *testing.T, err, target error) {
	t.Helper()
	if target == nil {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if !errors.Is(err, target) {
		t.Fatalf("error = %v, want %v", err, target)
	}
	t.Logf("refused: %v", err)
}

func flip(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 0x01
	return c
}

func TestInitSetsStrongEncryption(t *testing.T) {
	if pkcs7.ContentEncryptionAlgorithm != pkcs7.EncryptionAlgorithmAES256GCM {
		t.Errorf("content encryption = %d, want AES-256-GCM", pkcs7.ContentEncryptionAlgorithm)
	}
	if !pkcs7.KeyEncryptionAlgorithm.Equal(pkcs7.OIDEncryptionAlgorithmRSAESOAEP) {
		t.Errorf("key encryption = %s, want RSA-OAEP", pkcs7.KeyEncryptionAlgorithm)
	}
	if pkcs7.KeyEncryptionHash != crypto.SHA256 {
		t.Errorf("key encryption hash = %v, want SHA-256", pkcs7.KeyEncryptionHash)
	}
}

func TestSignVerify(t *testing.T) {
	f := newFixture(t)
	rsaSigner := f.ca.rsaSigner(t, "Acme RSA signing", 2048, 2)
	content := []byte(`{"hello":"tenant"}`)
	for _, tc := range []struct {
		name   string
		signer Signer
		sigAlg asn1.ObjectIdentifier
	}{
		{"ecdsa", f.signer, pkcs7.OIDDigestAlgorithmECDSASHA256},
		{"rsa", rsaSigner, pkcs7.OIDEncryptionAlgorithmRSASHA256},
	} {
		t.Run(tc.name, func(t *testing.T) {
			der, err := Sign(content, tc.signer)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Verify(der, Pinned{tc.signer.Cert})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, content) {
				t.Fatalf("content = %q, want %q", got, content)
			}
			si := parseSignerInfo(t, der)
			if !si.DigestAlgorithm.Algorithm.Equal(oidSHA256) {
				t.Errorf("digest algorithm = %s, want SHA-256", si.DigestAlgorithm.Algorithm)
			}
			if !si.SignatureAlgorithm.Algorithm.Equal(tc.sigAlg) {
				t.Errorf("signature algorithm = %s, want %s", si.SignatureAlgorithm.Algorithm, tc.sigAlg)
			}
		})
	}
}

func TestSignRefusesMismatchedKey(t *testing.T) {
	f := newFixture(t)
	_, err := Sign([]byte("x"), Signer{Cert: f.signer.Cert, Key: f.other.Key})
	if err == nil {
		t.Fatal("signed with a key that does not match the certificate")
	}
}

func parseSignerInfo(t *testing.T, der []byte) signerInfo {
	t.Helper()
	var ci contentInfo
	var sd signedData
	var si signerInfo
	if err := unmarshalExact(der, &ci); err != nil {
		t.Fatal(err)
	}
	if err := unmarshalExact(ci.Content.Bytes, &sd); err != nil {
		t.Fatal(err)
	}
	if len(sd.SignerInfos) != 1 {
		t.Fatalf("%d signers", len(sd.SignerInfos))
	}
	if err := unmarshalExact(sd.SignerInfos[0].FullBytes, &si); err != nil {
		t.Fatal(err)
	}
	return si
}

// signWith builds SignedData the way a careless or hostile signer would.
func signWith(t *testing.T, content []byte, sha256 bool, signers ...Signer) []byte {
	t.Helper()
	sd, err := pkcs7.NewSignedData(content)
	if err != nil {
		t.Fatal(err)
	}
	if sha256 {
		sd.SetDigestAlgorithm(pkcs7.OIDDigestAlgorithmSHA256)
	}
	for _, s := range signers {
		if err := sd.AddSigner(s.Cert, s.Key, pkcs7.SignerInfoConfig{}); err != nil {
			t.Fatal(err)
		}
	}
	der, err := sd.Finish()
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestVerifyRefuses(t *testing.T) {
	f := newFixture(t)
	content := []byte("check-in payload for device-a")
	good, err := Sign(content, f.signer)
	if err != nil {
		t.Fatal(err)
	}
	at := bytes.Index(good, content)
	if at < 0 {
		t.Fatal("content not found in signed data")
	}
	for _, tc := range []struct {
		name   string
		der    []byte
		pinned *x509.Certificate
		want   error
	}{
		{"another tenant's signer", mustSign(t, content, f.other), f.signer.Cert, ErrWrongSigner},
		{"signed by a device of the same tenant", signWith(t, content, true, Signer{Cert: f.devA, Key: f.keyA}), f.signer.Cert, ErrWrongSigner},
		{"no pinned certificate", good, nil, ErrWrongSigner},
		{"two signers", signWith(t, content, true, f.signer, f.other), f.signer.Cert, ErrWrongSigner},
		{"two signers both the tenant", signWith(t, content, true, f.signer, f.signer), f.signer.Cert, ErrWrongSigner},
		{"tampered content", flip(good, at+3), f.signer.Cert, ErrBadSignature},
		{"tampered signature", flip(good, len(good)-1), f.signer.Cert, ErrBadSignature},
		{"sha-1 signature", signWith(t, content, false, f.signer), f.signer.Cert, ErrAlgorithm},
		{"truncated", good[:len(good)-10], f.signer.Cert, ErrBadEnvelope},
		{"trailing bytes", append(bytes.Clone(good), 0, 0), f.signer.Cert, ErrBadEnvelope},
		{"not asn.1", []byte("<html>proxy error</html>"), f.signer.Cert, ErrBadEnvelope},
		{"empty", nil, f.signer.Cert, ErrBadEnvelope},
		{"enveloped data", mustEncrypt(t, content, f.devA), f.signer.Cert, ErrBadEnvelope},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Verify(tc.der, Pinned{tc.pinned})
			wantErr(t, err, tc.want)
			if got != nil {
				t.Fatalf("returned content %q on refusal", got)
			}
		})
	}
}

func mustSign(t *testing.T, content []byte, s Signer) []byte {
	t.Helper()
	der, err := Sign(content, s)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func mustEncrypt(t *testing.T, content []byte, to *x509.Certificate) []byte {
	t.Helper()
	der, err := pkcs7.Encrypt(content, []*x509.Certificate{to})
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func testGrant() KeyGrant {
	return KeyGrant{AssignmentID: "asg-1", BlobSHA256: SHA256Hex([]byte("blob")), Key: bytes.Repeat([]byte{7}, 32)}
}

func TestKeyGrantRoundTripAndAlgorithms(t *testing.T) {
	f := newFixture(t)
	g := testGrant()
	env, err := SealKeyGrant(g, f.devA, f.signer)
	if err != nil {
		t.Fatal(err)
	}
	got, err := OpenKeyGrant(env, Pinned{f.signer.Cert}, f.devA, f.keyA)
	if err != nil {
		t.Fatal(err)
	}
	if got.AssignmentID != g.AssignmentID || got.BlobSHA256 != g.BlobSHA256 || !bytes.Equal(got.Key, g.Key) {
		t.Fatalf("grant = %+v, want %+v", got, g)
	}

	// The produced envelope names exactly the strong algorithms.
	inner, err := Verify(env, Pinned{f.signer.Cert})
	if err != nil {
		t.Fatal(err)
	}
	var ci contentInfo
	var ed envelopedData
	var ri keyTransRecipientInfo
	var params rsaOAEPParams
	if err := unmarshalExact(inner, &ci); err != nil {
		t.Fatal(err)
	}
	if !ci.ContentType.Equal(oidEnveloped) {
		t.Fatalf("inner content type = %s", ci.ContentType)
	}
	if err := unmarshalExact(ci.Content.Bytes, &ed); err != nil {
		t.Fatal(err)
	}
	if err := unmarshalExact(ed.RecipientInfos[0].FullBytes, &ri); err != nil {
		t.Fatal(err)
	}
	if err := unmarshalExact(ri.KeyEncryptionAlgorithm.Parameters.FullBytes, &params); err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		what      string
		got, want asn1.ObjectIdentifier
	}{
		{"key encryption", ri.KeyEncryptionAlgorithm.Algorithm, asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 7}},
		{"oaep hash", params.Hash.Algorithm, asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}},
		{"content encryption", ed.EncryptedInfo.Algorithm.Algorithm, asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 46}},
		{"envelope signature digest", parseSignerInfo(t, env).DigestAlgorithm.Algorithm, asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}},
	}
	for _, c := range checks {
		if !c.got.Equal(c.want) {
			t.Errorf("%s = %s, want %s", c.what, c.got, c.want)
		}
	}
}

// downgraded builds a key envelope signed by the real tenant signer but
// encrypted with the given library settings, as a misconfigured or
// compromised server would.
func downgraded(t *testing.T, f *fixture, content int, keyAlg asn1.ObjectIdentifier, hash crypto.Hash) []byte {
	t.Helper()
	c, k, h := pkcs7.ContentEncryptionAlgorithm, pkcs7.KeyEncryptionAlgorithm, pkcs7.KeyEncryptionHash
	defer func() {
		pkcs7.ContentEncryptionAlgorithm, pkcs7.KeyEncryptionAlgorithm, pkcs7.KeyEncryptionHash = c, k, h
	}()
	pkcs7.ContentEncryptionAlgorithm, pkcs7.KeyEncryptionAlgorithm, pkcs7.KeyEncryptionHash = content, keyAlg, hash
	plain, err := json.Marshal(testGrant())
	if err != nil {
		t.Fatal(err)
	}
	env, err := pkcs7.Encrypt(plain, []*x509.Certificate{f.devA})
	if err != nil {
		t.Fatal(err)
	}
	return mustSign(t, env, f.signer)
}

func TestOpenKeyGrantRefuses(t *testing.T) {
	f := newFixture(t)
	good, err := SealKeyGrant(testGrant(), f.devA, f.signer)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := json.Marshal(testGrant())
	if err != nil {
		t.Fatal(err)
	}
	oaep, v15 := pkcs7.OIDEncryptionAlgorithmRSAESOAEP, pkcs7.OIDEncryptionAlgorithmRSA
	for _, tc := range []struct {
		name string
		env  []byte
		cert *x509.Certificate
		key  crypto.PrivateKey
		want error
	}{
		{"another tenant's signer", mustSign(t, mustEncrypt(t, plain, f.devA), f.other), f.devA, f.keyA, ErrWrongSigner},
		{"envelope for another device", good, f.devB, f.keyB, ErrWrongDevice},
		{"right certificate wrong key", good, f.devA, f.keyB, ErrBadEnvelope},
		{"tampered", flip(good, len(good)/2), f.devA, f.keyA, nil},
		{"des-cbc content", downgraded(t, f, pkcs7.EncryptionAlgorithmDESCBC, oaep, crypto.SHA256), f.devA, f.keyA, ErrAlgorithm},
		{"aes-128-gcm content", downgraded(t, f, pkcs7.EncryptionAlgorithmAES128GCM, oaep, crypto.SHA256), f.devA, f.keyA, ErrAlgorithm},
		{"aes-256-cbc content", downgraded(t, f, pkcs7.EncryptionAlgorithmAES256CBC, oaep, crypto.SHA256), f.devA, f.keyA, ErrAlgorithm},
		{"pkcs1 v1.5 key transport", downgraded(t, f, pkcs7.EncryptionAlgorithmAES256GCM, v15, crypto.SHA256), f.devA, f.keyA, ErrAlgorithm},
		{"oaep with sha-1", downgraded(t, f, pkcs7.EncryptionAlgorithmAES256GCM, oaep, crypto.SHA1), f.devA, f.keyA, ErrAlgorithm},
		{"des-cbc and pkcs1 v1.5", downgraded(t, f, pkcs7.EncryptionAlgorithmDESCBC, v15, crypto.SHA256), f.devA, f.keyA, ErrAlgorithm},
		{"unsigned envelope", mustEncrypt(t, plain, f.devA), f.devA, f.keyA, ErrBadEnvelope},
		{"sha-1 signed envelope", signWith(t, mustEncrypt(t, plain, f.devA), false, f.signer), f.devA, f.keyA, ErrAlgorithm},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, err := OpenKeyGrant(tc.env, Pinned{f.signer.Cert}, tc.cert, tc.key)
			if tc.want == nil { // any refusal will do, but there must be one
				if err == nil {
					t.Fatal("accepted a tampered envelope")
				}
			} else {
				wantErr(t, err, tc.want)
			}
			if g.Key != nil {
				t.Fatal("returned a key on refusal")
			}
			if errors.Is(err, ErrAlgorithm) {
				// The refusal is ours: the library alone would have
				// decrypted this envelope.
				if _, err := libraryDecrypt(t, tc.env, tc.cert, tc.key); err != nil {
					t.Fatalf("library refused too (%v): the test proves nothing", err)
				}
			}
		})
	}
}

func libraryDecrypt(t *testing.T, env []byte, cert *x509.Certificate, key crypto.PrivateKey) ([]byte, error) {
	t.Helper()
	outer, err := pkcs7.Parse(env)
	if err != nil {
		return nil, err
	}
	inner, err := pkcs7.Parse(outer.Content)
	if err != nil {
		return nil, err
	}
	return inner.Decrypt(cert, key)
}

func TestSealKeyGrantRefusesChangedLibrarySettings(t *testing.T) {
	f := newFixture(t)
	saved := pkcs7.ContentEncryptionAlgorithm
	pkcs7.ContentEncryptionAlgorithm = pkcs7.EncryptionAlgorithmDESCBC
	defer func() { pkcs7.ContentEncryptionAlgorithm = saved }()
	_, err := SealKeyGrant(testGrant(), f.devA, f.signer)
	wantErr(t, err, ErrAlgorithm)
}

func testScript() Script {
	body := []byte("#!/bin/sh\necho \"$1\"\n")
	return Script{ScriptID: "scr-1", Name: "echo", Body: body, SHA256: SHA256Hex(body), SignedAt: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
}

// sealRaw encrypts arbitrary bytes as a blob, to test what OpenScript does
// with inner content the tenant would never sign.
func sealRaw(t *testing.T, inner []byte) (blob, key []byte) {
	t.Helper()
	key = bytes.Repeat([]byte{9}, 32)
	aead, err := newGCM(key)
	if err != nil {
		t.Fatal(err)
	}
	nonce := make([]byte, aead.NonceSize())
	return aead.Seal(nonce, nonce, inner, blobAAD), key
}

func TestScriptRoundTrip(t *testing.T) {
	f := newFixture(t)
	sc := testScript()
	blob, key, err := SealScript(sc, f.signer)
	if err != nil {
		t.Fatal(err)
	}
	if len(key) != 32 {
		t.Fatalf("key is %d bytes", len(key))
	}
	if bytes.Contains(blob, sc.Body) {
		t.Fatal("blob contains the script in clear")
	}
	got, err := OpenScript(blob, key, Pinned{f.signer.Cert})
	if err != nil {
		t.Fatal(err)
	}
	if got.ScriptID != sc.ScriptID || !bytes.Equal(got.Body, sc.Body) || !got.SignedAt.Equal(sc.SignedAt) {
		t.Fatalf("script = %+v, want %+v", got, sc)
	}

	blob2, key2, err := SealScript(sc, f.signer)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(key, key2) || bytes.Equal(blob[:gcmNonceSize], blob2[:gcmNonceSize]) {
		t.Fatal("key or nonce reused across seals")
	}
}

func TestSealScriptFillsOrChecksDigest(t *testing.T) {
	f := newFixture(t)
	sc := testScript()
	sc.SHA256 = ""
	blob, key, err := SealScript(sc, f.signer)
	if err != nil {
		t.Fatal(err)
	}
	got, err := OpenScript(blob, key, Pinned{f.signer.Cert})
	if err != nil {
		t.Fatal(err)
	}
	if got.SHA256 != SHA256Hex(sc.Body) {
		t.Fatalf("sha256 = %q", got.SHA256)
	}
	sc.SHA256 = SHA256Hex([]byte("other"))
	_, _, err = SealScript(sc, f.signer)
	wantErr(t, err, ErrDigestMismatch)
}

func TestOpenScriptRefuses(t *testing.T) {
	f := newFixture(t)
	blob, key, err := SealScript(testScript(), f.signer)
	if err != nil {
		t.Fatal(err)
	}
	lying := testScript()
	lying.Body = []byte("#!/bin/sh\nrm -rf /\n")
	lyingJSON, _ := json.Marshal(lying)
	lyingBlob, lyingKey := sealRaw(t, mustSign(t, lyingJSON, f.signer))
	goodJSON, _ := json.Marshal(testScript())
	otherBlob, otherKey := sealRaw(t, mustSign(t, goodJSON, f.other))
	unsignedBlob, unsignedKey := sealRaw(t, goodJSON)

	for _, tc := range []struct {
		name      string
		blob, key []byte
		want      error
	}{
		{"truncated blob", blob[:len(blob)-1], key, ErrBadEnvelope},
		{"blob shorter than nonce and tag", blob[:20], key, ErrBadEnvelope},
		{"flipped byte in nonce", flip(blob, 0), key, ErrBadEnvelope},
		{"flipped byte in body", flip(blob, len(blob)/2), key, ErrBadEnvelope},
		{"flipped byte in tag", flip(blob, len(blob)-1), key, ErrBadEnvelope},
		{"wrong key", blob, bytes.Repeat([]byte{1}, 32), ErrBadEnvelope},
		{"short key", blob, key[:16], ErrBadEnvelope},
		{"body does not match signed sha256", lyingBlob, lyingKey, ErrDigestMismatch},
		{"signed by another tenant", otherBlob, otherKey, ErrWrongSigner},
		{"not signed", unsignedBlob, unsignedKey, ErrBadEnvelope},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc, err := OpenScript(tc.blob, tc.key, Pinned{f.signer.Cert})
			wantErr(t, err, tc.want)
			if sc.Body != nil {
				t.Fatal("returned a script body on refusal")
			}
		})
	}
}

func TestCheckin(t *testing.T) {
	f := newFixture(t)
	issued := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	nonce := bytes.Repeat([]byte{0xab}, 32)
	payload := CheckinPayload{
		DeviceID:    "device-a",
		Nonce:       nonce,
		IssuedAt:    issued,
		ExpiresAt:   issued.Add(10 * time.Minute),
		Config:      DefaultConfig,
		Assignments: []Assignment{{ID: "asg-1", ScriptID: "scr-1"}},
	}
	good, err := SignCheckin(payload, f.signer)
	if err != nil {
		t.Fatal(err)
	}
	wrongVersion := payload
	wrongVersion.ProtocolVersion = Version + 1
	otherNonce := bytes.Repeat([]byte{0xcd}, 32)

	for _, tc := range []struct {
		name     string
		der      []byte
		deviceID string
		nonce    []byte
		now      time.Time
		want     error
	}{
		{"accepted", good, "device-a", nonce, issued.Add(time.Minute), nil},
		{"accepted within clock skew", good, "device-a", nonce, issued.Add(-ClockSkew + time.Second), nil},
		{"device clock ten minutes slow", good, "device-a", nonce, issued.Add(-10 * time.Minute), nil},
		{"device clock 23 hours slow", good, "device-a", nonce, issued.Add(-23 * time.Hour), nil},
		{"slow clock and another nonce", good, "device-a", otherNonce, issued.Add(-10 * time.Minute), ErrNonceMismatch},
		{"accepted at expiry", good, "device-a", nonce, issued.Add(10 * time.Minute), nil},
		{"another tenant's signer", mustSign(t, mustJSON(t, payload), f.other), "device-a", nonce, issued, ErrWrongSigner},
		{"device mismatch", good, "device-b", nonce, issued, ErrWrongDevice},
		{"nonce mismatch", good, "device-a", otherNonce, issued, ErrNonceMismatch},
		{"nonce prefix only", good, "device-a", nonce[:16], issued, ErrNonceMismatch},
		{"short request nonce", good, "device-a", nonce[:8], issued, ErrNonceMismatch},
		{"expired response", good, "device-a", nonce, issued.Add(10*time.Minute + time.Second), ErrExpired},
		{"response from the future", good, "device-a", nonce, issued.Add(-ClockSkew - time.Second), ErrExpired},
		{"issued more than a day ahead", good, "device-a", nonce, issued.Add(-25 * time.Hour), ErrExpired},
		{"unknown protocol version", mustSign(t, mustJSON(t, wrongVersion), f.signer), "device-a", nonce, issued, ErrVersion},
		{"tampered", flip(good, bytes.Index(good, []byte("device-a"))), "device-a", nonce, issued, ErrBadSignature},
		{"not json", mustSign(t, []byte("not json"), f.signer), "device-a", nonce, issued, ErrBadEnvelope},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := OpenCheckin(tc.der, Pinned{f.signer.Cert}, tc.deviceID, tc.nonce, tc.now)
			wantErr(t, err, tc.want)
			if tc.want != nil {
				if p.DeviceID != "" || p.Assignments != nil {
					t.Fatal("returned a payload on refusal")
				}
				return
			}
			if p.ProtocolVersion != Version || len(p.Assignments) != 1 || p.Config != DefaultConfig {
				t.Fatalf("payload = %+v", p)
			}
		})
	}
}

func TestSignCheckinRefusesIncompletePayload(t *testing.T) {
	f := newFixture(t)
	now := time.Now()
	ok := CheckinPayload{DeviceID: "d", Nonce: make([]byte, MinNonceBytes), IssuedAt: now, ExpiresAt: now.Add(time.Minute)}
	for _, tc := range []struct {
		name   string
		mutate func(*CheckinPayload)
	}{
		{"no device id", func(p *CheckinPayload) { p.DeviceID = "" }},
		{"short nonce", func(p *CheckinPayload) { p.Nonce = p.Nonce[:4] }},
		{"expires before issued", func(p *CheckinPayload) { p.ExpiresAt = p.IssuedAt.Add(-time.Second) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := ok
			tc.mutate(&p)
			if _, err := SignCheckin(p, f.signer); err == nil {
				t.Fatal("signed an incomplete payload")
			}
		})
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// assignmentCase builds what the server sends for one assignment, letting
// each test bend one part of it.
type assignmentCase struct {
	script      Script
	signer      Signer // signs the blob
	grantSigner Signer // signs the key envelope
	to          *x509.Certificate
	grantID     string
	grantSHA    string // default: sha256 of the blob
	a           Assignment
	blob        []byte
}

func buildAssignment(t testing.TB, f *fixture, bend func(*assignmentCase)) (Assignment, []byte) {
	t.Helper()
	c := &assignmentCase{script: testScript(), signer: f.signer, grantSigner: f.signer, to: f.devA, grantID: "asg-1"}
	c.a = Assignment{ID: "asg-1", Version: 1, ScriptID: c.script.ScriptID, Name: "echo", RunAs: RunAsRoot}
	if bend != nil {
		bend(c)
	}
	blob, key, err := SealScript(c.script, c.signer)
	if err != nil {
		t.Fatal(err)
	}
	sha := SHA256Hex(blob)
	if c.grantSHA == "" {
		c.grantSHA = sha
	}
	env, err := SealKeyGrant(KeyGrant{AssignmentID: c.grantID, BlobSHA256: c.grantSHA, Key: key}, c.to, c.grantSigner)
	if err != nil {
		t.Fatal(err)
	}
	c.a.BlobSHA256, c.a.KeyEnvelope, c.blob = sha, env, blob
	return c.a, c.blob
}

func TestOpenAssignment(t *testing.T) {
	f := newFixture(t)
	a, blob := buildAssignment(t, f, nil)
	sc, err := OpenAssignment(a, blob, Pinned{f.signer.Cert}, f.devA, f.keyA)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(sc.Body, testScript().Body) {
		t.Fatalf("body = %q", sc.Body)
	}

	// A blob sealed twice differs, so a swapped blob is caught by its digest.
	other, otherBlob := buildAssignment(t, f, nil)
	for _, tc := range []struct {
		name string
		a    func() (Assignment, []byte)
		cert *x509.Certificate
		key  crypto.PrivateKey
		want error
	}{
		{"grant for another assignment", func() (Assignment, []byte) {
			return buildAssignment(t, f, func(c *assignmentCase) { c.grantID = "asg-2" })
		}, f.devA, f.keyA, ErrWrongAssignment},
		{"grant for another blob", func() (Assignment, []byte) {
			return buildAssignment(t, f, func(c *assignmentCase) { c.grantSHA = SHA256Hex([]byte("other")) })
		}, f.devA, f.keyA, ErrDigestMismatch},
		{"wrong sha256 of downloaded blob", func() (Assignment, []byte) { return a, otherBlob }, f.devA, f.keyA, ErrDigestMismatch},
		{"flipped byte in blob", func() (Assignment, []byte) { return a, flip(blob, 40) }, f.devA, f.keyA, ErrDigestMismatch},
		{"truncated blob", func() (Assignment, []byte) { return a, blob[:len(blob)-16] }, f.devA, f.keyA, ErrDigestMismatch},
		{"blob and digest swapped together", func() (Assignment, []byte) {
			b := a
			b.BlobSHA256 = other.BlobSHA256
			return b, otherBlob
		}, f.devA, f.keyA, ErrDigestMismatch},
		{"envelope for another device", func() (Assignment, []byte) { return a, blob }, f.devB, f.keyB, ErrWrongDevice},
		{"envelope signed by another tenant", func() (Assignment, []byte) {
			return buildAssignment(t, f, func(c *assignmentCase) { c.grantSigner = f.other })
		}, f.devA, f.keyA, ErrWrongSigner},
		{"script signed by another tenant", func() (Assignment, []byte) {
			return buildAssignment(t, f, func(c *assignmentCase) { c.signer = f.other })
		}, f.devA, f.keyA, ErrWrongSigner},
		{"blob holds another script", func() (Assignment, []byte) {
			return buildAssignment(t, f, func(c *assignmentCase) { c.a.ScriptID = "scr-2" })
		}, f.devA, f.keyA, ErrWrongAssignment},
		{"no key envelope", func() (Assignment, []byte) {
			b := a
			b.KeyEnvelope = nil
			return b, blob
		}, f.devA, f.keyA, ErrBadEnvelope},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, blob := tc.a()
			sc, err := OpenAssignment(a, blob, Pinned{f.signer.Cert}, tc.cert, tc.key)
			wantErr(t, err, tc.want)
			if sc.Body != nil {
				t.Fatal("returned a script on refusal")
			}
			if !strings.Contains(err.Error(), a.ID) {
				t.Fatalf("error %q does not name the assignment", err)
			}
		})
	}
}

func TestSHA256Hex(t *testing.T) {
	const want = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	if got := SHA256Hex(nil); got != want {
		t.Fatalf("SHA256Hex(nil) = %s, want %s", got, want)
	}
}

// The checks must not depend on the library refusing: a key-agreement
// style recipient, which the library cannot produce, is refused by shape.
func TestCheckEnvelopedDataRefusesOtherRecipientShapes(t *testing.T) {
	f := newFixture(t)
	ed := envelopedData{
		Version:        2,
		RecipientInfos: []asn1.RawValue{{Class: asn1.ClassContextSpecific, Tag: 1, IsCompound: true, Bytes: []byte{0x02, 0x01, 0x03}}},
		EncryptedInfo: encryptedContentInfo{
			ContentType: oidData,
			Algorithm:   pkix.AlgorithmIdentifier{Algorithm: oidAES256GCM},
		},
	}
	inner, err := asn1.Marshal(ed)
	if err != nil {
		t.Fatal(err)
	}
	der, err := asn1.Marshal(contentInfo{ContentType: oidEnveloped, Content: asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: inner}})
	if err != nil {
		t.Fatal(err)
	}
	wantErr(t, checkEnvelopedData(der, f.devA), ErrAlgorithm)
}

// The agent opens every assignment before running it and the server signs
// every check-in response: both sit on hot paths.
func BenchmarkOpenAssignment(b *testing.B) {
	f := newFixture(b)
	a, blob := buildAssignment(b, f, nil)
	for b.Loop() {
		if _, err := OpenAssignment(a, blob, Pinned{f.signer.Cert}, f.devA, f.keyA); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSignCheckin(b *testing.B) {
	f := newFixture(b)
	now := time.Now()
	p := CheckinPayload{DeviceID: "device-a", Nonce: make([]byte, 32), IssuedAt: now, ExpiresAt: now.Add(time.Minute), Config: DefaultConfig}
	for b.Loop() {
		if _, err := SignCheckin(p, f.signer); err != nil {
			b.Fatal(err)
		}
	}
}
