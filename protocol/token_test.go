package protocol

import (
	"crypto/sha256"
	"errors"
	"strings"
	"testing"
)

func TestEnrollTokenRoundTrip(t *testing.T) {
	pin := sha256.Sum256([]byte("ca"))
	tok, err := NewEnrollToken(pin)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseEnrollToken(" " + tok.String() + "\n")
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if got.CAPin != pin || string(got.Secret) != string(tok.Secret) {
		t.Fatalf("round trip changed the token")
	}
	if string(got.SecretHash()) == string(got.Secret) || len(got.SecretHash()) != 32 {
		t.Fatalf("secret hash is not a sha256 of the secret")
	}
}

func TestParseEnrollTokenRefuses(t *testing.T) {
	pin := sha256.Sum256([]byte("ca"))
	good, _ := NewEnrollToken(pin)
	parts := strings.Split(good.String(), ".")
	cases := map[string]string{
		"empty":        "",
		"garbage":      "hello",
		"wrong prefix": "MAW9." + parts[1] + "." + parts[2],
		"short secret": "MAW1.AAAA." + parts[2],
		"bad base64":   "MAW1.!!!." + parts[2],
		"short pin":    "MAW1." + parts[1] + ".AAAA",
		"zero pin":     "MAW1." + parts[1] + ".AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"extra part":   good.String() + ".x",
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseEnrollToken(in); !errors.Is(err, ErrBadToken) {
				t.Fatalf("ParseEnrollToken(%q) = %v, want ErrBadToken", in, err)
			}
		})
	}
}
