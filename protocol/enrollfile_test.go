package protocol

import (
	"errors"
	"strings"
	"testing"
)

func TestEnrollFileRoundTrip(t *testing.T) {
	tok, err := NewEnrollToken([32]byte{1})
	if err != nil {
		t.Fatal(err)
	}
	want := EnrollFile{ServerURL: "https://mdm.example.com:8443", Token: tok.String(), Organization: "Example Corp"}
	b, err := want.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseEnrollFile(b)
	if err != nil || got != want {
		t.Fatalf("ParseEnrollFile = %+v, %v; want %+v", got, err, want)
	}
}

func TestParseEnrollFileRefuses(t *testing.T) {
	tok, _ := NewEnrollToken([32]byte{1})
	ok := `"server_url":"https://mdm.example.com","enrollment_token":"` + tok.String() + `"`
	tests := []struct{ name, text, want string }{
		{"empty", ``, "EOF"},
		{"not JSON", `server_url=https://x`, "invalid character"},
		{"array", `[]`, "cannot unmarshal"},
		{"unknown field", `{` + ok + `,"user":"ada"}`, "unknown field"},
		{"trailing data", `{` + ok + `}{}`, "data after"},
		{"no URL", `{"enrollment_token":"` + tok.String() + `"}`, "server_url"},
		{"http", `{"server_url":"http://x","enrollment_token":"` + tok.String() + `"}`, "want https"},
		{"user in URL", `{"server_url":"https://a:b@x","enrollment_token":"` + tok.String() + `"}`, "want https"},
		{"no token", `{"server_url":"https://x"}`, "enrollment_token"},
		{"bad token", `{"server_url":"https://x","enrollment_token":"MAW1.x.y"}`, "enrollment_token"},
		{"organization on two lines", `{` + ok + `,"organization":"a\nb"}`, "one line"},
		{"too large", `{` + ok + `}` + strings.Repeat(" ", MaxEnrollFileBytes), "larger than"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseEnrollFile([]byte(tc.text))
			if !errors.Is(err, ErrBadEnrollFile) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrBadEnrollFile saying %q", err, tc.want)
			}
		})
	}
}
