package accounts

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"sync"
	"unicode/utf8"

	"github.com/alexedwards/argon2id"
)

// Params are the argon2id parameters of new password hashes: OWASP's
// 19 MiB, 2 iterations, 1 lane. Each hash records its own, so tests may
// lower them and hashes made before a change still verify.
var Params = &argon2id.Params{Memory: 19 * 1024, Iterations: 2, Parallelism: 1, SaltLength: 16, KeyLength: 32}

// Bounds of a password chosen by a person.
const (
	MinPasswordLen = 12  // characters
	MaxPasswordLen = 256 // bytes: the hash reads every one
)

// CheckPasswordRules refuses a password too short or too long to be kept.
func CheckPasswordRules(p string) error {
	switch {
	case p == "":
		return fmt.Errorf("the password is empty")
	case !utf8.ValidString(p):
		return fmt.Errorf("the password is not valid UTF-8")
	case utf8.RuneCountInString(p) < MinPasswordLen:
		return fmt.Errorf("the password is shorter than %d characters", MinPasswordLen)
	case len(p) > MaxPasswordLen:
		return fmt.Errorf("the password is longer than %d bytes", MaxPasswordLen)
	}
	return nil
}

// HashPassword returns the argon2id hash of p in its encoded form, salt and
// parameters included.
func HashPassword(p string) (string, error) {
	h, err := argon2id.CreateHash(p, Params)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return h, nil
}

// CheckPassword tells whether p matches hash; the module compares in
// constant time. A hash that cannot be read matches nothing.
func CheckPassword(p, hash string) bool {
	ok, err := argon2id.ComparePasswordAndHash(p, hash)
	return err == nil && ok
}

// dummyHash is what a login for an unknown name is checked against.
var dummyHash = sync.OnceValue(func() string {
	h, err := HashPassword(GeneratePassword())
	if err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return h
})

// BurnPasswordCheck spends the time of one password check, for a login
// whose name is unknown: the answer's timing then says nothing of it.
func BurnPasswordCheck(p string) { CheckPassword(p, dummyHash()) }

// passwordAlphabet leaves out characters people confuse: 0 O o, 1 l I.
const passwordAlphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// GeneratedPasswordLen is the length of GeneratePassword's passwords:
// about 115 bits from its 55-letter alphabet.
const GeneratedPasswordLen = 20

// GeneratePassword returns a random password from an unambiguous alphabet,
// each letter drawn uniformly by crypto/rand.
func GeneratePassword() string {
	b := make([]byte, GeneratedPasswordLen)
	max := big.NewInt(int64(len(passwordAlphabet)))
	for i := range b {
		n, err := rand.Int(rand.Reader, max)
		if err != nil {
			panic(err) // crypto/rand does not fail on supported platforms
		}
		b[i] = passwordAlphabet[n.Int64()]
	}
	return string(b)
}
