package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"unicode"
)

// MaxEnrollFileBytes bounds the enrollment file the agent reads as root.
const MaxEnrollFileBytes = 64 << 10

// ErrBadEnrollFile is wrapped by every enrollment file parse error.
var ErrBadEnrollFile = errors.New("malformed enrollment file")

// EnrollFile is what an enrolling package installs for its postinstall (and
// the daemon, when the server could not be reached then): where to enroll
// and with which one-time token, which carries the tenant CA pin. The
// organization's name is only for messages.
type EnrollFile struct {
	ServerURL    string `json:"server_url"`
	Token        string `json:"enrollment_token"`
	Organization string `json:"organization,omitempty"`
}

// Marshal renders the file as the package ships it.
func (f EnrollFile) Marshal() ([]byte, error) {
	if err := f.check(); err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// ParseEnrollFile reads a file made by Marshal: one JSON object with exactly
// the known fields, an https server URL and a well-formed token.
func ParseEnrollFile(b []byte) (EnrollFile, error) {
	var f EnrollFile
	if len(b) > MaxEnrollFileBytes {
		return f, fmt.Errorf("%w: larger than %d bytes", ErrBadEnrollFile, MaxEnrollFileBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return EnrollFile{}, fmt.Errorf("%w: %v", ErrBadEnrollFile, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return EnrollFile{}, fmt.Errorf("%w: data after the JSON object", ErrBadEnrollFile)
	}
	if err := f.check(); err != nil {
		return EnrollFile{}, err
	}
	return f, nil
}

func (f EnrollFile) check() error {
	u, err := url.Parse(f.ServerURL)
	if f.ServerURL == "" || err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil {
		return fmt.Errorf("%w: server_url %q: want https://HOST[:PORT]", ErrBadEnrollFile, f.ServerURL)
	}
	if _, err := ParseEnrollToken(f.Token); err != nil {
		return fmt.Errorf("%w: enrollment_token: %v", ErrBadEnrollFile, err)
	}
	if len(f.Organization) > 128 || strings.IndexFunc(f.Organization, unicode.IsControl) >= 0 {
		return fmt.Errorf("%w: organization must be at most 128 characters, on one line", ErrBadEnrollFile)
	}
	return nil
}
